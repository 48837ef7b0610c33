/**
 * The file a check worker thread runs: parallel.js beside this module. The CLI's bundles replace this
 * module with `__filename` (scripts/bundle.mjs): there the bundle itself holds parallel.js's code.
 */
export const checkWorkerFile = (): URL | string => new URL('./parallel.js', import.meta.url);
