/* The command line reader: known answers, split input, overlong lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "smtp/linebuf.h"

struct outcome {
	char lines[8][64];
	int overlong[8];
	int n;
};

/* Feed input in pieces of step bytes and collect what comes out. */
static void
run(const char *input, size_t len, size_t cap, size_t step, struct outcome *o)
{
	char buf[64];
	struct linebuf lb;
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	linebuf_init(&lb, buf, cap);
	while (off < len) {
		size_t piece = len - off < step ? len - off : step;
		size_t used = 0;
		enum linebuf_result r;

		r = linebuf_feed(&lb, input + off, piece, &used);
		assert_true(used >= 1 && used <= piece);
		off += used;
		if (r == LINEBUF_MORE)
			continue;
		assert_true(o->n < 8);
		o->overlong[o->n] = r == LINEBUF_OVERLONG;
		if (r == LINEBUF_LINE)
			memcpy(o->lines[o->n], buf, lb.len + 1);
		o->n++;
		linebuf_next(&lb);
	}
}

static const struct {
	const char *input;
	size_t cap;
	int n;
	const char *lines[3];
	int overlong[3];
} cases[] = {
	{"EHLO a\r\n", 64, 1, {"EHLO a"}, {0}},
	{"NOOP\r\nQUIT\r\n", 64, 2, {"NOOP", "QUIT"}, {0, 0}},
	/* A bare LF does not end a line; it stays for the parser to see. */
	{"NOOP\nQUIT\r\n", 64, 1, {"NOOP\nQUIT"}, {0}},
	{"A\rB\r\n", 64, 1, {"A\rB"}, {0}},
	{"\r\n", 64, 1, {""}, {0}},
	{"X\r\r\n", 64, 1, {"X\r"}, {0}},
	/* cap 8 holds 7 bytes: "1234567" fits, "12345678" does not. */
	{"1234567\r\n", 8, 1, {"1234567"}, {0}},
	{"12345678\r\nOK\r\n", 8, 2, {"", "OK"}, {1, 0}},
	{"123456789012345678901234\r\nNEXT\r\n", 8, 2, {"", "NEXT"}, {1, 0}},
	{"no end", 64, 0, {""}, {0}},
};

static void
test_known_answers(void **state)
{
	size_t i, step;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* Every split of the input must give the same lines. */
		for (step = 1; step <= strlen(cases[i].input); step++) {
			struct outcome o;
			int k;

			run(cases[i].input, strlen(cases[i].input),
				cases[i].cap, step, &o);
			assert_int_equal(o.n, cases[i].n);
			for (k = 0; k < o.n; k++) {
				assert_int_equal(
					o.overlong[k], cases[i].overlong[k]);
				if (!o.overlong[k])
					assert_string_equal(
						o.lines[k], cases[i].lines[k]);
			}
		}
	}
}

static void
test_nul_kept_with_length(void **state)
{
	char buf[16];
	struct linebuf lb;
	size_t used;

	(void)state;
	linebuf_init(&lb, buf, sizeof(buf));
	assert_int_equal(linebuf_feed(&lb, "A\0B\r\n", 5, &used), LINEBUF_LINE);
	assert_int_equal(used, 5);
	assert_int_equal(lb.len, 3);
	assert_memory_equal(buf, "A\0B", 3);
}

static void
test_next_forgets_partial(void **state)
{
	char buf[16];
	struct linebuf lb;
	size_t used;

	(void)state;
	linebuf_init(&lb, buf, sizeof(buf));
	assert_int_equal(linebuf_feed(&lb, "EHLO x\r", 7, &used), LINEBUF_MORE);
	linebuf_next(&lb);
	/* The LF after a forgotten CR must not end an empty line. */
	assert_int_equal(
		linebuf_feed(&lb, "\nQUIT\r\n", 7, &used), LINEBUF_LINE);
	assert_string_equal(buf, "\nQUIT");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_nul_kept_with_length),
		cmocka_unit_test(test_next_forgets_partial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
