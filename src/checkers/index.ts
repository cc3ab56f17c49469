import type { AccessCheckerFactory } from '../access/contract.js';
import { permissiveChecker } from './permissive.js';

/**
 * A checker whose module is imported only when ACCESS_CHECKER names it, by its `init` (the gateway
 * runs `init` before `routes` and `create`). The patient and list checkers bring @medplum/core and
 * the R4 definitions, the permission checker the OpenSRP plugin: a gateway configured without them
 * does not hold their code (about 2 MB of heap).
 */
function importedOnInit(name: string, load: () => Promise<AccessCheckerFactory>): AccessCheckerFactory {
  let loaded: AccessCheckerFactory | undefined;
  const checker = (): AccessCheckerFactory => {
    if (!loaded) throw new Error(`The ${name} checker was used before init()`);
    return loaded;
  };
  return {
    name,
    get smart() {
      return loaded?.smart;
    },
    async init(ctx) {
      loaded ??= await load();
      await loaded.init?.(ctx);
    },
    create: (token, ctx) => checker().create(token, ctx),
    routes: (app, ctx) => checker().routes?.(app, ctx),
  };
}

/** Every checker that ACCESS_CHECKER can name. */
export const BUILT_IN_CHECKERS: readonly AccessCheckerFactory[] = [
  permissiveChecker,
  importedOnInit('permission', async () => (await import('../opensrp/index.js')).permissionChecker),
  importedOnInit('patient', async () => (await import('../smart/patient-checker.js')).patientChecker),
  importedOnInit('list', async () => (await import('../list/list-checker.js')).listChecker),
];
