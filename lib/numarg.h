/* Whole numbers given as option values and in environment variables. */
#ifndef KTSTR_NUMARG_H
#define KTSTR_NUMARG_H

/* Parse text as a decimal whole number from min to max: digits only, with no
 * sign, spaces or trailing text.  Returns 0 and stores the value, or -1 when
 * text is not such a number; callers print their own message. */
int numarg_parse(const char *text, unsigned long long min, unsigned long long max,
		 unsigned long long *out);

#endif
