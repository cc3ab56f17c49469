import { type AccessCheckerFactory, granted } from '../access/contract.js';

/** Grants every request of a verified token. For development only (RUN_MODE=DEV), as upstream. */
export const permissiveChecker: AccessCheckerFactory = {
  name: 'permissive',
  devOnly: true,
  async create() {
    return { checkAccess: async () => granted() };
  },
};
