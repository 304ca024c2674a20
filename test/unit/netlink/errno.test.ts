import { constants } from 'node:os';
import { describe, expect, test } from 'vitest';
import { ERRNO, errnoName, isPermissionErrno } from '../../../src/netlink/errno.js';

describe('errno', () => {
  test('names from the host table, a number it lacks spelled out', () => {
    expect(errnoName(constants.errno.EEXIST)).toBe('EEXIST');
    expect(errnoName(99999)).toBe('errno 99999');
  });

  test('EPERM and EACCES are permission errors, ENOENT is not', () => {
    expect([ERRNO.EPERM, ERRNO.EACCES, ERRNO.ENOENT].map(isPermissionErrno)).toEqual([true, true, false]);
  });
});
