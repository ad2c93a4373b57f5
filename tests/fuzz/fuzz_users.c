/*
 * libFuzzer target for the users file parser: any bytes, as if read from
 * a file. A set it accepts is then asked about user "a"'s senders, with
 * the input's tail as the address, without hashing anything: a hash per
 * input would slow the search a thousandfold.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "auth/users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char err[USERS_ERROR_MAX];
	const struct user *a;
	struct users *u = NULL;
	size_t tail = size < 80 ? size : 80;

	users_check_senders(s, size, err, sizeof(err));
	if (users_parse(&u, "fuzz.users", s, size, err, sizeof(err)) != 0) {
		if (u != NULL || memchr(err, '\0', sizeof(err)) == NULL)
			__builtin_trap();
		return 0;
	}
	if (users_count(u) > USERS_COUNT_MAX)
		__builtin_trap();
	a = users_find(u, "a", 1);
	if (a != NULL) {
		if (strcmp(user_name(a), "a") != 0)
			__builtin_trap();
		user_may_send(a, s + size - tail, tail);
		user_may_send(a, "a@example.org", 13);
	}
	users_free(u);
	return 0;
}
