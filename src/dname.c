#include "dname.h"

static int
ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '-';
}

int
dname_valid(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > DNAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!ldh(s[i]) || (s[i] == '-' && label == 0))
			return 0;
		if (++label > DNAME_LABEL_MAX)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}
