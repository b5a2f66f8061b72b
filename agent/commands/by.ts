/** `by`: who asked, as the county names them (an officer, a system), for the record: a short line of text, no control characters. */
import { z } from 'zod';

export const by = z
  .string()
  .regex(/^[^\p{Cc}]{1,64}$/u, { error: 'must be 1-64 characters, no control characters' })
  .optional();
