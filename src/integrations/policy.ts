/** The {@link PolicyPort} read from configuration (`Tenants.<id>`, docs/operations.md). */
import type { PolicyPort } from '../actors/ports.js';
import { type Config, tenantSettings } from '../config.js';

/**
 * `Tenants.<tenantId>` over `Tenants.default`. Pass a function to have each step read the configuration as it
 * is then (a reloaded configuration applies to the next step without a restart).
 *
 * @example
 * const policy = createConfigPolicy(config);
 * policy.autoImplementAfterPlanApproval('acme'); // true unless Tenants.acme or Tenants.default says false
 */
export function createConfigPolicy(config: Config | (() => Config)): PolicyPort {
  const current = typeof config === 'function' ? config : () => config;
  return {
    autoImplementAfterPlanApproval: (tenantId) =>
      tenantSettings(current(), tenantId).AutoImplementAfterPlanApproval,
  };
}
