import type { AccessCheckerFactory } from '../access/contract.js';
import { listChecker } from '../list/list-checker.js';
import { permissionChecker } from '../opensrp/index.js';
import { patientChecker } from '../smart/patient-checker.js';
import { permissiveChecker } from './permissive.js';

/** Every checker that ACCESS_CHECKER can name. */
export const BUILT_IN_CHECKERS: readonly AccessCheckerFactory[] = [
  permissiveChecker,
  permissionChecker,
  patientChecker,
  listChecker,
];
