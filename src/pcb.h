/* Small helpers around lwIP's altcp API shared by server and relay. */
#ifndef POSTLET_PCB_H
#define POSTLET_PCB_H

struct altcp_pcb;

/*
 * Detach the upper layer from pcb: no callback reaches it any more. Done
 * before closing a pcb whose owner goes away, so that a late err or recv
 * cannot touch freed state.
 */
void pcb_callbacks_clear(struct altcp_pcb *pcb);

#endif
