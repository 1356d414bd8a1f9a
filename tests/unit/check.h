/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/* Minimal assertion helpers for the unit tests: count failures, exit 0/1. */
#ifndef TCMU_TEST_CHECK_H
#define TCMU_TEST_CHECK_H

#include <stdio.h>

static int check_failures;
static int check_count;

#define CHECK(cond)                                                               \
	do {                                                                      \
		check_count++;                                                    \
		if (!(cond)) {                                                    \
			check_failures++;                                         \
			fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
		}                                                                 \
	} while (0)

#define CHECK_EQ(a, b)                                                            \
	do {                                                                      \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);   \
		check_count++;                                                    \
		if (check_a_ != check_b_) {                                       \
			check_failures++;                                         \
			fprintf(stderr, "FAIL %s:%d: %s == %s (%lld != %lld)\n",  \
				__FILE__, __LINE__, #a, #b, check_a_, check_b_);  \
		}                                                                 \
	} while (0)

#define SECTION(name) printf("-- %s\n", (name))

static inline int check_summary(const char *prog)
{
	printf("%s: %d checks, %d failed\n", prog, check_count, check_failures);
	return check_failures ? 1 : 0;
}

#endif
