/* Layout shared by xdp.bpf.c and the TypeScript side (bpf-lib/src/probes/xdp/layout.ts
 * mirrors it; test/xdp.test.ts checks both agree via the object's BTF). */
#ifndef BPFBOOK_XDP_H
#define BPFBOOK_XDP_H

#define XDP_MAX_RULES 16
#define XDP_MAX_COPIES 12 /* byte ranges of pkt_meta copied into an aggregation key */
#define XDP_META_SIZE 64  /* sizeof(struct pkt_meta): a power of two, so offsets can be masked */

/* What the parser found in one packet: the "record" aggregation keys and sampled
 * rows are cut from. Integers in host byte order; addresses as 16 bytes in network
 * order, IPv4 (and ARP's protocol addresses) mapped into IPv6 (::ffff:a.b.c.d). */
struct pkt_meta {
	__u32 len;          /* frame bytes seen by XDP (L2 header included, no FCS) */
	__u16 ethertype;    /* innermost, after up to 2 VLAN tags; < 0x600: an 802.3 length */
	__u8 proto;         /* IP protocol / IPv6 next header after extension headers; 0: none */
	__u8 nvlan;         /* VLAN tags seen (0..2; 3 = more than 2, the rest not parsed) */
	__u16 vlan[2];      /* VLAN ids, outer first; 0 = untagged */
	__u16 sport;        /* TCP/UDP/SCTP ports; 0 for other protocols */
	__u16 dport;
	__u8 src[16];       /* source address */
	__u8 dst[16];       /* destination address */
	__u8 icmp_type;     /* ICMP/ICMPv6 type, or the ARP operation */
	__u8 icmp_code;
	__u8 tcp_flags;     /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
	__u8 ttl;           /* IPv4 TTL / IPv6 hop limit */
	__u8 action;        /* enum xdp_verdict */
	__u8 flags;         /* enum meta_flags */
	__s16 rule;         /* the first rule that matched, -1: none */
	__u32 ifindex;      /* ingress interface */
	__u32 rx_queue;
};

enum meta_flags {
	META_TRUNCATED = 1,  /* a header was cut short: later fields are 0 */
	META_FRAGMENT = 2,   /* an IP fragment */
	META_LATER_FRAG = 4, /* not the first fragment: no L4 header */
	META_HAS_PORTS = 8,  /* sport/dport are meaningful */
};

enum xdp_verdict { VERDICT_PASS = 0, VERDICT_DROP = 1, VERDICT_WOULD_DROP = 2 };

/* Which fields a match compares (all given ones must match). */
enum match_field {
	MF_ETHERTYPE = 1 << 0,
	MF_IP = 1 << 1,      /* IPv4 or IPv6 */
	MF_PROTO = 1 << 2,
	MF_SRC = 1 << 3,
	MF_DST = 1 << 4,
	MF_ADDR = 1 << 5,    /* source or destination (uses src/src_mask) */
	MF_SPORT = 1 << 6,
	MF_DPORT = 1 << 7,
	MF_PORT = 1 << 8,    /* source or destination port (uses dport range) */
	MF_VLAN = 1 << 9,
	MF_ICMP_TYPE = 1 << 10,
};

/* A packet match: a rule (with its action), or the `where` filter. 88 bytes. */
struct xdp_match {
	__u32 fields;
	__u16 ethertype;
	__u8 proto;
	__u8 action;         /* rules: VERDICT_PASS or VERDICT_DROP */
	__u16 sport_lo, sport_hi;
	__u16 dport_lo, dport_hi;
	__u16 vlan;
	__u8 icmp_type;
	__u8 _pad0;
	__u32 src[4];
	__u32 src_mask[4];
	__u32 dst[4];
	__u32 dst_mask[4];
	__u32 _pad1;
};

/* A byte range of pkt_meta copied into the aggregation key. */
struct key_copy {
	__u16 moff;  /* offset in pkt_meta */
	__u16 koff;  /* offset in the key */
	__u16 size;  /* bytes, 1..16 */
	__u16 _pad;
};

/* Per-CPU totals of everything the program saw and did, one entry. */
struct xdp_totals {
	__u64 packets;          /* every packet the program ran on */
	__u64 bytes;
	__u64 truncated;        /* a header was cut short (META_TRUNCATED) */
	__u64 dropped;          /* returned XDP_DROP */
	__u64 dropped_bytes;
	__u64 would_drop;       /* dry run: a drop rule matched */
	__u64 would_drop_bytes;
	__u64 sampled_out;      /* matched `where` but not picked by the sampling rate */
	__u64 rule_packets[XDP_MAX_RULES];
	__u64 rule_bytes[XDP_MAX_RULES];
};

enum xdp_run_mode { RUN_AGGREGATE = 0, RUN_SAMPLE = 1 };

#endif
