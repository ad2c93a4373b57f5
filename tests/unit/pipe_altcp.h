/*
 * Tests only: two altcp pcbs joined in memory. What one writes arrives as
 * recv on the other when pipe_pair_step() runs, in pieces of a chosen
 * size; each side's sndbuf is small and a window limits data the reader
 * has not yet acknowledged with altcp_recved, as TCP would.
 */
#ifndef POSTLET_PIPE_ALTCP_H
#define POSTLET_PIPE_ALTCP_H

#include <stddef.h>

#include "lwip/altcp.h"

struct pipe_pair;

/*
 * A connected pair: *a and *b. sndbuf bytes may wait in each direction,
 * window bytes may be delivered and not yet recved, piece is the largest
 * recv. NULL when out of memory.
 */
struct pipe_pair *pipe_pair_new(u16_t sndbuf, size_t window, size_t piece,
	struct altcp_pcb **a, struct altcp_pcb **b);

/* Deliver one piece each way (and FIN, RST). 1 if anything happened. */
int pipe_pair_step(struct pipe_pair *pp);

/* Step until nothing happens or limit steps have run. Returns steps. */
size_t pipe_pair_run(struct pipe_pair *pp, size_t limit);

/* Call the poll callback of both live ends. */
void pipe_pair_poll(struct pipe_pair *pp);

/* Bytes side (0 = a, 1 = b) wrote that the other has not recved. */
size_t pipe_pair_unacked(const struct pipe_pair *pp, int side);

/* Free the pair and any pcb still open. */
void pipe_pair_free(struct pipe_pair *pp);

#endif
