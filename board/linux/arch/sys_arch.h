/* Nothing to declare: postlet runs lwIP with NO_SYS=1 (no threads). */
#ifndef POSTLET_ARCH_SYS_ARCH_H
#define POSTLET_ARCH_SYS_ARCH_H
#endif
