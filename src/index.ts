/**
 * tscompose as a library: load compose files into the canonical project model.
 */
export { loadProject, loadProjectSync, type LoadOptions } from './project/load.js';
export type * from './project/types.js';
export { projectToJson, projectToYaml } from './project/serialize.js';
export { serviceConfigHash } from './project/hash.js';
export { serviceDependencies, dependencyGraph } from './project/dependencies.js';
export { dependencyOrder, findCycle, traverse } from './project/graph.js';
export * from './errors.js';
