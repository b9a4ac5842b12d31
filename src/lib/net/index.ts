export * from './cidr.js';
export * from './errors.js';
export * from './ipam.js';
export * from './bridge.js';
export * from './firewall.js';
export * from './network.js';
export * from './run.js';
export * from './macvlan.js';
