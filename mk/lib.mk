# Builds one third-party library as a static archive with the caller's
# compiler and flags. Invoked by the top Makefile once the sources exist,
# so that the file lists below can be taken from the unpacked tree.
#   make -f mk/lib.mk LIB=lwip|bearssl OUT=dir CC=... LIB_CFLAGS=...

ifeq ($(LIB),lwip)
SRCDIR := $(LWIP_DIR)/src
SRCS := $(addprefix $(SRCDIR)/core/,init.c def.c inet_chksum.c ip.c mem.c \
	memp.c netif.c pbuf.c raw.c stats.c sys.c altcp.c altcp_alloc.c \
	altcp_tcp.c tcp.c tcp_in.c tcp_out.c timeouts.c udp.c) \
	$(addprefix $(SRCDIR)/core/ipv4/,dhcp.c etharp.c icmp.c ip4_frag.c \
	ip4.c ip4_addr.c) \
	$(addprefix $(SRCDIR)/core/ipv6/,ethip6.c icmp6.c inet6.c ip6.c \
	ip6_addr.c ip6_frag.c mld6.c nd6.c) \
	$(SRCDIR)/netif/ethernet.c $(SRCDIR)/api/err.c
INCS := -I$(SRCDIR)/include -I$(PORT_DIR)
else ifeq ($(LIB),bearssl)
SRCDIR := $(BEARSSL_DIR)/src
SRCS := $(shell find $(SRCDIR) -name '*.c' | LC_ALL=C sort)
INCS := -I$(BEARSSL_DIR)/inc -I$(SRCDIR)
else
$(error LIB must be lwip or bearssl)
endif

OBJS := $(patsubst $(SRCDIR)/%.c,$(OUT)/$(LIB)/%.o,$(SRCS))
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(OUT)/lib$(LIB).a: $(OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@
	$(Q)$(AR) rcs $@ $^

$(OUT)/$(LIB)/%.o: $(SRCDIR)/%.c
	@mkdir -p $(dir $@)
	@[ "$(V)" = 1 ] || echo "  CC      $(LIB)/$*.c"
	$(Q)$(CC) $(LIB_CFLAGS) $(INCS) -c -o $@ $<
