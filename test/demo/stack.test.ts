import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AccessCheckerFactory } from '../../src/access/contract.js';
import { permissiveChecker } from '../../src/checkers/permissive.js';
import { chooseGatewayMode } from '../../src/demo/stack.js';

const permissionStandIn: AccessCheckerFactory = {
  ...permissiveChecker,
  name: 'permission',
  devOnly: false,
};

describe('demo gateway mode', () => {
  test('runs the OpenSRP permission checker in PROD once it is registered', () => {
    const mode = chooseGatewayMode([permissiveChecker, permissionStandIn]);
    assert.deepEqual(mode, { accessChecker: 'permission', runMode: 'PROD' });
  });

  test('falls back to the permissive checker in DEV, and says so, while it is not', () => {
    const mode = chooseGatewayMode([permissiveChecker]);
    assert.equal(mode.accessChecker, 'permissive');
    assert.equal(mode.runMode, 'DEV');
    assert.match(mode.caveat ?? '', /permission/);
  });
});
