import { accessCheckerTestBase } from '../access-checker-test-base.js';
import { TEST_LIST_ID } from '../checker-kit.js';

accessCheckerTestBase('list', { patient_list: TEST_LIST_ID });
