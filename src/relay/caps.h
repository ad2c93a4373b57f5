/*
 * What the upstream's EHLO reply offers (RFC 5321 4.1.1.1): one
 * extension a line after the first, a keyword and its parameters.
 */
#ifndef POSTLET_RELAY_CAPS_H
#define POSTLET_RELAY_CAPS_H

#include <stdint.h>

#define RELAY_CAP_PIPELINING 0x01u /* RFC 2920 */
#define RELAY_CAP_SIZE 0x02u /* RFC 1870 */
#define RELAY_CAP_8BITMIME 0x04u /* RFC 6152 */
#define RELAY_CAP_SMTPUTF8 0x08u /* RFC 6531 */
#define RELAY_CAP_STARTTLS 0x10u /* RFC 3207 */
#define RELAY_CAP_AUTH 0x20u /* RFC 4954 */
#define RELAY_CAP_ENHANCEDSTATUSCODES 0x40u /* RFC 2034 */

#define RELAY_AUTH_PLAIN 0x01u /* RFC 4616 */
#define RELAY_AUTH_LOGIN 0x02u /* draft-murchison-sasl-login */
#define RELAY_AUTH_OTHER 0x04u /* one we do not speak */

struct relay_caps {
	unsigned flags; /* RELAY_CAP_ */
	unsigned auth; /* RELAY_AUTH_ */
	uint32_t size_max; /* SIZE's limit in bytes; 0: none given */
};

/* Nothing offered: before EHLO, and again after STARTTLS (RFC 3207 4.2). */
void relay_caps_reset(struct relay_caps *c);

/*
 * Note one line's text of the EHLO reply, the first (the greeting) not
 * included. Keywords are matched without regard to case; unknown ones
 * and malformed parameters are ignored, never an error.
 */
void relay_caps_line(struct relay_caps *c, const char *text);

#endif
