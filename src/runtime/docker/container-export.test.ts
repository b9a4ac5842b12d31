import { describe, expect, test } from '@jest/globals';
import { commitQuery } from './container-export.js';

describe('Docker commit query', () => {
  test('reference split into repo and tag, comment, author, repeated changes, pause by default', () => {
    expect(commitQuery({})).toEqual({ pause: true });
    expect(
      commitQuery({ reference: 'localhost:5000/team/app:v2', message: 'm', author: 'A <a@b>', changes: ['ENV A=1', 'CMD ["sh"]'], pause: false }),
    ).toEqual({
      pause: false,
      repo: 'localhost:5000/team/app',
      tag: 'v2',
      comment: 'm',
      author: 'A <a@b>',
      changes: ['ENV A=1', 'CMD ["sh"]'],
    });
    expect(commitQuery({ reference: 'app' })).toMatchObject({ repo: 'app', tag: 'latest' });
  });
});
