/*
 * Per-user rate limits on a clock the test turns by hand: the hour's
 * share, its renewal, no limit at 0, and a table smaller than the users.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/rate.h"

static uint32_t now_ms;

static uint32_t
fake_clock(void)
{
	return now_ms;
}

static int
teardown(void **state)
{
	(void)state;
	rate_free();
	return 0;
}

static void
test_messages(void **state)
{
	int i;

	(void)state;
	now_ms = 5;
	assert_int_equal(rate_init(16, 3, 0, fake_clock), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(rate_allow_message("alice", 5), 0);
	assert_int_equal(rate_allow_message("alice", 5), -1);
	assert_int_equal(rate_allow_message("bob", 3), 0);
	now_ms += RATE_WINDOW_MS - 1;
	assert_int_equal(rate_allow_message("alice", 5), -1);
	now_ms += 1;
	assert_int_equal(rate_allow_message("alice", 5), 0);
	/* No recipient limit was set. */
	assert_int_equal(rate_allow_recipients("alice", 5, 100000), 0);
}

static void
test_recipients(void **state)
{
	(void)state;
	now_ms = 0;
	assert_int_equal(rate_init(16, 0, 10, fake_clock), 0);
	assert_int_equal(rate_allow_recipients("alice", 5, 4), 0);
	assert_int_equal(rate_allow_recipients("alice", 5, 6), 0);
	assert_int_equal(rate_allow_recipients("alice", 5, 1), -1);
	assert_int_equal(rate_allow_recipients("bob", 3, 11), -1);
	assert_int_equal(rate_allow_recipients("bob", 3, 10), 0);
	assert_int_equal(rate_allow_recipients("bob", 3, UINT32_MAX), -1);
	assert_int_equal(rate_allow_message("alice", 5), 0);
}

/* Two entries, three users: a new one takes an idle entry first. */
static void
test_small_table(void **state)
{
	(void)state;
	now_ms = 0;
	assert_int_equal(rate_init(2, 1, 0, fake_clock), 0);
	assert_int_equal(rate_allow_message("a", 1), 0);
	now_ms += RATE_WINDOW_MS; /* a's window is over */
	assert_int_equal(rate_allow_message("b", 1), 0);
	assert_int_equal(rate_allow_message("c", 1), 0); /* takes a's */
	assert_int_equal(rate_allow_message("b", 1), -1);
	now_ms += 1;
	assert_int_equal(rate_allow_message("c", 1), -1);
	/* Both busy: a takes the least recently used, b, forgetting it. */
	assert_int_equal(rate_allow_message("a", 1), 0);
	assert_int_equal(rate_allow_message("c", 1), -1);
}

static void
test_uninitialised(void **state)
{
	(void)state;
	assert_int_equal(rate_allow_message("a", 1), 0);
	assert_int_equal(rate_allow_recipients("a", 1, 5), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_messages, teardown),
		cmocka_unit_test_teardown(test_recipients, teardown),
		cmocka_unit_test_teardown(test_small_table, teardown),
		cmocka_unit_test(test_uninitialised),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
