import {
  countersByLabel,
  diffCounts,
  isHistoryTaskRead,
  isReadOperation,
  readsAndWrites,
} from '../../../bench/prometheus';

const metrics = [
  '# HELP persistence_requests persistence_requests counter',
  '# TYPE persistence_requests counter',
  'persistence_requests{namespace="default",operation="GetTasks",service_name="matching"} 5',
  'persistence_requests{namespace="system",operation="GetTasks",service_name="history"} 2',
  'persistence_requests{operation="UpdateWorkflowExecution",service_name="history"} 1e3',
  'persistence_requests_total{operation="GetTasks"} 99',
  'persistence_errors{operation="GetTasks"} 7',
  'persistence_requests{service_name="frontend"} 4',
].join('\n');

describe('countersByLabel', () => {
  it("sums one metric's samples by a label over the other labels, and nothing else", () => {
    expect(countersByLabel(metrics, 'persistence_requests', 'operation')).toEqual({
      GetTasks: 7,
      UpdateWorkflowExecution: 1000,
      '': 4,
    });
    expect(countersByLabel(metrics, 'persistence_requests', 'service_name')).toEqual({
      matching: 5,
      history: 1002,
      frontend: 4,
    });
    expect(countersByLabel('', 'persistence_requests', 'operation')).toEqual({});
  });
});

describe('diffCounts', () => {
  it('keeps what grew, largest first, counting new keys from zero', () => {
    expect(diffCounts({ a: 1, b: 5, c: 2 }, { a: 4, b: 5, c: 12, d: 1 })).toEqual({ c: 10, a: 3, d: 1 });
    expect(Object.keys(diffCounts({ a: 1 }, { a: 4, c: 12 }))).toEqual(['c', 'a']);
  });
});

describe('reads and writes', () => {
  it('counts Get, List and Read operations as reads', () => {
    expect(['GetTimerTasks', 'ListNamespaces', 'ReadHistoryBranch'].every(isReadOperation)).toBe(true);
    expect(
      ['UpdateWorkflowExecution', 'AppendHistoryNodes', 'RangeCompleteHistoryTasks'].some(isReadOperation),
    ).toBe(false);
    expect(readsAndWrites({ GetTasks: 7, UpdateShard: 2, ReadHistoryBranch: 1, GetTimerTasks: 3 })).toEqual({
      reads: 11,
      historyTaskReads: 3,
      writes: 2,
    });
  });

  it("counts the history service's queue reads, not matching's GetTasks", () => {
    expect(['GetTransferTasks', 'GetTimerTasks', 'GetVisibilityTasks'].every(isHistoryTaskRead)).toBe(true);
    expect(['GetTasks', 'GetWorkflowExecution', 'RangeCompleteHistoryTasks'].some(isHistoryTaskRead)).toBe(
      false,
    );
  });
});
