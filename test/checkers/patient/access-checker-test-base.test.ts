import { accessCheckerTestBase } from '../access-checker-test-base.js';
import { PATIENT_AUTHORIZED } from '../checker-kit.js';

accessCheckerTestBase('patient', { patient_id: PATIENT_AUTHORIZED, scope: 'patient/*.*' });
