/**
 * The file a check worker thread runs: parts.js beside this module. The CLI's bundles replace this
 * module with `__filename` (scripts/bundle.mjs): there the bundle itself holds parts.js's code.
 */
export const checkWorkerFile = (): URL | string => new URL('./parts.js', import.meta.url);
