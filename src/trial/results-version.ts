// The results format's version, alone in a module so that the writer, the reader and the record
// schemas can all name it without importing each other.

/**
 * The results format, written as `schemaVersion` in every header. It changes only when a field
 * is removed, renamed or changes meaning; new fields may appear without it (readers ignore what
 * they do not know). Files without it are migdown 0.1's, which is version 1 without the field.
 */
export const RESULTS_SCHEMA_VERSION = 1;
