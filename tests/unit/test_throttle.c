/*
 * Failed-login throttling on a clock the test turns by hand: the growing
 * delay, the block after 10 failures and its end, the window, successes,
 * the IPv6 /64, and which entry a full table gives up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "auth/throttle.h"

static uint32_t now_ms;

static uint32_t
fake_clock(void)
{
	return now_ms;
}

static int
setup(void **state)
{
	(void)state;
	now_ms = 1000;
	return throttle_init(256, fake_clock);
}

static int
teardown(void **state)
{
	(void)state;
	throttle_free();
	return 0;
}

static uint32_t
user_delay(const char *name)
{
	return throttle_delay_ms(THROTTLE_USER, name, strlen(name));
}

static void
user_failed(const char *name)
{
	throttle_failed(THROTTLE_USER, name, strlen(name));
}

static void
test_growing_delay(void **state)
{
	static const uint32_t want[] = {0, 0, 0, 1000, 2000, 4000, 8000, 16000,
		32000, 60000, THROTTLE_BLOCKED};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		if (user_delay("alice") != want[i])
			fail_msg("after %zu failures: %u, want %u", i,
				user_delay("alice"), want[i]);
		user_failed("alice");
	}
}

/* The delay runs from the last failure, not from the question. */
static void
test_delay_elapses(void **state)
{
	(void)state;
	user_failed("bob");
	user_failed("bob");
	user_failed("bob");
	assert_int_equal(user_delay("bob"), 1000);
	now_ms += 400;
	assert_int_equal(user_delay("bob"), 600);
	now_ms += 600;
	assert_int_equal(user_delay("bob"), 0);
	user_failed("bob");
	assert_int_equal(user_delay("bob"), 2000);
}

static void
test_block_ends(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		user_failed("carol");
		now_ms += 60000;
	}
	/* The 10th came 9 minutes after the first: blocked from then. */
	now_ms -= 60000;
	assert_int_equal(user_delay("carol"), THROTTLE_BLOCKED);
	now_ms += THROTTLE_WINDOW_MS - 1;
	assert_int_equal(user_delay("carol"), THROTTLE_BLOCKED);
	now_ms += 1;
	assert_int_equal(user_delay("carol"), 0);
	user_failed("carol");
	assert_int_equal(user_delay("carol"), 0);
}

/* Failures spread over more than 15 minutes never add up to a block. */
static void
test_window(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 9; i++)
		user_failed("dave");
	assert_int_equal(user_delay("dave"), 60000);
	now_ms += THROTTLE_WINDOW_MS;
	assert_int_equal(user_delay("dave"), 0);
	user_failed("dave");
	assert_int_equal(user_delay("dave"), 0);
}

static void
test_success_clears(void **state)
{
	static const uint8_t ip[4] = {192, 0, 2, 7};
	int i;

	(void)state;
	for (i = 0; i < 5; i++) {
		user_failed("erin");
		throttle_failed(THROTTLE_CLIENT, ip, sizeof(ip));
	}
	assert_int_equal(user_delay("erin"), 4000);
	throttle_succeeded(THROTTLE_USER, "erin", 4);
	assert_int_equal(user_delay("erin"), 0);
	/* The client's count stays: one good account clears nothing else. */
	assert_int_equal(
		throttle_delay_ms(THROTTLE_CLIENT, ip, sizeof(ip)), 4000);
	throttle_succeeded(THROTTLE_USER, "nobody", 6);
}

/* A user name and an address of the same bytes are different keys. */
static void
test_kinds_apart(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		throttle_failed(THROTTLE_CLIENT, "abcd", 4);
	assert_int_equal(throttle_delay_ms(THROTTLE_CLIENT, "abcd", 4), 1000);
	assert_int_equal(user_delay("abcd"), 0);
	assert_int_equal(user_delay("abc"), 0);
}

static void
test_ipv6_prefix(void **state)
{
	uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 1, 2, 3, 4};
	uint8_t b[16], c[16];
	int i;

	(void)state;
	memcpy(b, a, 16);
	b[15] = 0x99; /* the same /64 */
	memcpy(c, a, 16);
	c[7] = 3; /* the next /64 */
	for (i = 0; i < 3; i++)
		throttle_failed(THROTTLE_CLIENT, a, 16);
	assert_int_equal(throttle_delay_ms(THROTTLE_CLIENT, b, 16), 1000);
	assert_int_equal(throttle_delay_ms(THROTTLE_CLIENT, c, 16), 0);
	/* IPv4 addresses count whole. */
	throttle_failed(THROTTLE_CLIENT, "\xc0\x00\x02\x01", 4);
	throttle_failed(THROTTLE_CLIENT, "\xc0\x00\x02\x01", 4);
	throttle_failed(THROTTLE_CLIENT, "\xc0\x00\x02\x01", 4);
	assert_int_equal(
		throttle_delay_ms(THROTTLE_CLIENT, "\xc0\x00\x02\x02", 4), 0);
}

/* Names count by their first 64 bytes. */
static void
test_long_keys(void **state)
{
	char a[100], b[100];
	int i;

	(void)state;
	memset(a, 'x', sizeof(a));
	memcpy(b, a, sizeof(b));
	b[99] = 'y';
	for (i = 0; i < 3; i++)
		throttle_failed(THROTTLE_USER, a, sizeof(a));
	assert_int_equal(throttle_delay_ms(THROTTLE_USER, b, sizeof(b)), 1000);
	assert_int_equal(throttle_delay_ms(THROTTLE_USER, a, 63), 0);
}

/* A full table gives up the least recently used entry, blocks last. */
static void
test_table_full(void **state)
{
	char name[16];
	int i;

	(void)state;
	assert_int_equal(throttle_init(4, fake_clock), 0);
	for (i = 0; i < 10; i++)
		user_failed("blocked");
	for (i = 0; i < 3; i++)
		user_failed("a");
	now_ms += 10;
	user_failed("b");
	now_ms += 10;
	user_failed("c");
	now_ms += 10;
	assert_int_equal(user_delay("a"), 1000 - 30); /* used: now newest */
	user_failed("d"); /* takes b's entry, the least recently used */
	now_ms += 10;
	assert_int_equal(user_delay("a"), 1000 - 40);

	/* Many new names never lift the block. */
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		user_failed(name);
		now_ms += 10;
	}
	assert_int_equal(user_delay("blocked"), THROTTLE_BLOCKED);
	assert_int_equal(user_delay("a"), 0);
}

/* Every key blocked: a new one still gets an entry, the oldest. */
static void
test_table_all_blocked(void **state)
{
	int i, k;

	(void)state;
	assert_int_equal(throttle_init(2, fake_clock), 0);
	for (k = 0; k < 3; k++) {
		char name[2] = {(char)('p' + k), '\0'};

		for (i = 0; i < 10; i++)
			user_failed(name);
		now_ms += 10;
	}
	assert_int_equal(user_delay("p"), 0);
	assert_int_equal(user_delay("q"), THROTTLE_BLOCKED);
	assert_int_equal(user_delay("r"), THROTTLE_BLOCKED);
}

/* The clock wraps after 49 days; differences carry on across it. */
static void
test_clock_wraps(void **state)
{
	(void)state;
	now_ms = UINT32_MAX - 500;
	user_failed("wrap");
	user_failed("wrap");
	user_failed("wrap");
	now_ms += 800; /* past zero */
	assert_int_equal(user_delay("wrap"), 200);
	now_ms += THROTTLE_WINDOW_MS;
	assert_int_equal(user_delay("wrap"), 0);
}

static void
test_uninitialised(void **state)
{
	(void)state;
	throttle_free();
	user_failed("x");
	throttle_succeeded(THROTTLE_USER, "x", 1);
	assert_int_equal(user_delay("x"), 0);
}

/* The default clock is the board's: a real wait of 1 s, no fake clock. */
static void
test_real_clock(void **state)
{
	(void)state;
	assert_int_equal(throttle_init(8, NULL), 0);
	user_failed("real");
	user_failed("real");
	user_failed("real");
	assert_in_range(user_delay("real"), 900, 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_growing_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_delay_elapses, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_block_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_success_clears, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_kinds_apart, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ipv6_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_long_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_table_full, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_table_all_blocked, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_clock_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_uninitialised, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_real_clock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
