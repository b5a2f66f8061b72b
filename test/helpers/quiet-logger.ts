import pino from 'pino';

/** Logs only warnings and worse, to stderr, so test output stays readable. */
export const quietLogger = () =>
  pino({ level: process.env.VG_TEST_LOG ?? 'error' }, pino.destination({ fd: 2, sync: true }));
