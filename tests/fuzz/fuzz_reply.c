/*
 * Fuzz the upstream's replies: untrusted bytes from the network, read
 * by the reply parser and, for EHLO replies, the capability parser. The
 * input is fed in pieces whose sizes come from its first byte, so that
 * lines split across reads are exercised too.
 */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "relay/caps.h"
#include "relay/reply.h"

static struct relay_reply rp;
static struct relay_caps caps;

/* What the parser hands on must be bounded and printable. */
static void
check_text(const char *s, size_t max)
{
	size_t n = strlen(s), i;

	assert(n < max);
	for (i = 0; i < n; i++)
		assert((s[i] >= 0x20 && s[i] <= 0x7e) || s[i] == '\n');
}

static void
check_line(void)
{
	check_text(rp.line, sizeof(rp.line));
	assert(strchr(rp.line, '\n') == NULL);
	assert(rp.line_text <= strlen(rp.line));
	assert(rp.code >= 200 && rp.code <= 559);
	check_text(rp.enhanced, sizeof(rp.enhanced));
	if (rp.enhanced[0] != '\0')
		assert(rp.enhanced[0] == rp.line[0] && rp.enhanced[1] == '.');
	check_text(rp.text, sizeof(rp.text));
	assert(rp.textlen == strlen(rp.text));
	if (rp.nlines > 1)
		relay_caps_line(&caps, rp.line + rp.line_text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t piece, off = 1;

	if (size == 0)
		return 0;
	piece = data[0] % 64 + 1;
	relay_reply_init(&rp);
	relay_caps_reset(&caps);
	while (off < size) {
		size_t len = size - off < piece ? size - off : piece, used = 0;
		enum relay_reply_event ev =
			relay_reply_feed(&rp, data + off, len, &used);

		assert(used <= len);
		assert(used > 0 || len == 0);
		off += used;
		if (ev == RELAY_REPLY_BAD) {
			assert(rp.error != NULL);
			relay_reply_init(&rp);
		} else if (ev == RELAY_REPLY_LINE) {
			check_line();
		} else if (ev == RELAY_REPLY_DONE) {
			check_line();
			relay_reply_init(&rp);
		}
	}
	assert((caps.flags & ~0x7fu) == 0);
	assert((caps.auth & ~0x7u) == 0);
	return 0;
}
