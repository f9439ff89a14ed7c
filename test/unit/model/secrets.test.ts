import {
  mentionsSecret,
  referencedSecrets,
  secretEnvName,
  secretReference,
  substituteSecrets,
} from '../../../src/model/secrets';

describe('secret references', () => {
  it('finds and substitutes references, any spacing, only for the secrets given', () => {
    const text = `a ${secretReference('A')} b \${{secrets.B}} c \${{ secrets.C }} \${{ secrets.A }}`;
    expect(referencedSecrets(text)).toEqual(['A', 'B', 'C']);
    expect(
      substituteSecrets(
        text,
        new Map([
          ['A', 'x$&y'],
          ['B', '2'],
        ]),
      ),
    ).toBe('a x$&y b 2 c ${{ secrets.C }} x$&y');
    expect(mentionsSecret('${{ secrets.')).toBe(true);
    expect(mentionsSecret('${{ vars.secrets }}')).toBe(false);
    expect(secretEnvName('DB_PASSWORD')).toBe('CONVOY_SECRET_DB_PASSWORD');
  });
});
