/* SPDX-License-Identifier: LGPL-2.1-or-later OR Apache-2.0 */
/*
 * The one assertion header of the C tests (unit, simulator, daemon).
 *
 *   CHECK(cond[, fmt, ...])   count a failure and go on
 *   CHECK_EQ(a, b)            integers; prints both values on failure
 *   REQUIRE(cond[, fmt, ...]) CHECK, then return 1 (from main or an int helper)
 *   ENSURE(cond[, fmt, ...])  CHECK, then return (void functions)
 *   STEP(fmt, ...)            a banner line: "check: ..."
 *   check_exit()              "PASS" or "FAILED: N check(s)"; 0 or 1
 *
 * A test program exits 0 on pass, 1 on failure and 77 when it cannot run
 * here (ctest's SKIP_RETURN_CODE; it prints SKIP and why).
 */
#ifndef TCMU_TESTS_CHECK_H
#define TCMU_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

static inline void check_failed(const char *file, int line, const char *expr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static inline void check_failed(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	check_failures++;
	fprintf(stderr, "FAIL %s:%d: %s", file, line, expr);
	if (strcmp(fmt, ": ")) { /* fmt is ": " plus the caller's message */
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
}

/* The message, when given, must start with a string literal. */
#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			check_failed(__FILE__, __LINE__, #cond, ": " __VA_ARGS__);                 \
	} while (0)

#define CHECK_EQ(a, b)                                                                             \
	do {                                                                                       \
		long long check_a_ = (long long)(a), check_b_ = (long long)(b);                    \
		if (check_a_ != check_b_)                                                          \
			check_failed(__FILE__, __LINE__, #a " == " #b, ": %lld != %lld", check_a_, \
				     check_b_);                                                    \
	} while (0)

static inline int check_exit(void)
{
	if (check_failures) {
		printf("FAILED: %d check(s)\n", check_failures);
		return 1;
	}
	printf("PASS\n");
	return 0;
}

/* REQUIRE's way out: always non-zero, so callers see the failure. */
static inline int check_abort(void)
{
	printf("FAILED: %d check(s)\n", check_failures);
	return 1;
}

#define REQUIRE(cond, ...)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			check_failed(__FILE__, __LINE__, #cond, ": " __VA_ARGS__);                 \
			return check_abort();                                                      \
		}                                                                                  \
	} while (0)

#define ENSURE(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			check_failed(__FILE__, __LINE__, #cond, ": " __VA_ARGS__);                 \
			return;                                                                    \
		}                                                                                  \
	} while (0)

#define STEP(...)                                                                                  \
	do {                                                                                       \
		printf("check: ");                                                                 \
		printf(__VA_ARGS__);                                                               \
		printf("\n");                                                                      \
		fflush(stdout);                                                                    \
	} while (0)

#endif
