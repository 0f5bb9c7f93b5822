// SPDX-License-Identifier: GPL-2.0
/* XDP: see and shape the packets arriving on an interface.
 *
 * Every packet is parsed (Ethernet, up to two VLAN tags, ARP, IPv4, IPv6 with its
 * extension headers, TCP, UDP, SCTP ports, ICMP/ICMPv6 types) into a struct
 * pkt_meta. Then, in this order:
 *   1. rules (only when given): the first matching rule decides XDP_DROP or
 *      XDP_PASS, and its counters go up; a dry run only counts what would drop;
 *   2. the `where` match decides whether the packet is counted/sampled;
 *   3. aggregate mode: a key is cut from pkt_meta (byte ranges set at load) and
 *      packets/bytes per key go into agg.h's double-buffered maps;
 *      sample mode: one packet in cfg_sample_every goes to the ring buffer.
 * Everything is configured through .rodata at load: one compiled object. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "event.h"
#include "stream.h"
#include "agg.h"
#include "xdp.h"

#define ETH_P_IP_ 0x0800
#define ETH_P_ARP_ 0x0806
#define ETH_P_IPV6_ 0x86DD
#define ETH_P_8021Q_ 0x8100
#define ETH_P_8021AD_ 0x88A8
#define ETH_P_QINQ1_ 0x9100 /* pre-standard QinQ, seen in the wild */

const volatile __u32 cfg_mode = RUN_AGGREGATE;
const volatile __u32 cfg_nrules = 0;
const volatile __u32 cfg_dry_run = 0;
const volatile struct xdp_match cfg_rules[XDP_MAX_RULES] = {};
const volatile __u32 cfg_has_where = 0;
const volatile struct xdp_match cfg_where = {};
const volatile __u32 cfg_ncopies = 0;
const volatile struct key_copy cfg_copies[XDP_MAX_COPIES] = {};
const volatile __u32 cfg_key_end = 0;     /* end of the last copy: zeroed from there */
const volatile __u32 cfg_bucket_koff = 0; /* where the histogram bucket goes (4-aligned), when cfg_hist */
const volatile __u32 cfg_sample_every = 1;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xdp_totals);
} xdp_totals SEC(".maps");

struct xdp_event {
	struct event_hdr hdr;
	struct pkt_meta m;
};

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

struct arp_ipv4 {
	__be16 hrd;
	__be16 pro;
	__u8 hln;
	__u8 pln;
	__be16 op;
	__u8 sha[6];
	__u8 spa[4];
	__u8 tha[6];
	__u8 tpa[4];
} __attribute__((packed));

struct ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen;
	__be16 frag_off; /* fragment header only */
	__u32 _rest;
};

static __always_inline void map_v4(__u8 *dst16, __u32 addr_be)
{
	__u32 *w = (__u32 *)dst16;
	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = addr_be;
}

/* Ports and types of the L4 header at l4. */
static __always_inline void parse_l4(struct pkt_meta *m, void *l4, void *end)
{
	switch (m->proto) {
	case 6: { /* TCP */
		struct tcphdr *t = l4;
		if ((void *)(t + 1) > end) {
			m->flags |= META_TRUNCATED;
			return;
		}
		m->sport = bpf_ntohs(t->source);
		m->dport = bpf_ntohs(t->dest);
		m->tcp_flags = ((__u8 *)t)[13];
		m->flags |= META_HAS_PORTS;
		return;
	}
	case 17:   /* UDP */
	case 136:  /* UDP-Lite */
	case 132: { /* SCTP: ports first, like UDP */
		struct udphdr *u = l4;
		if ((void *)(u + 1) > end) {
			m->flags |= META_TRUNCATED;
			return;
		}
		m->sport = bpf_ntohs(u->source);
		m->dport = bpf_ntohs(u->dest);
		m->flags |= META_HAS_PORTS;
		return;
	}
	case 1:    /* ICMP */
	case 58: { /* ICMPv6 */
		__u8 *ic = l4;
		if ((void *)(ic + 2) > end) {
			m->flags |= META_TRUNCATED;
			return;
		}
		m->icmp_type = ic[0];
		m->icmp_code = ic[1];
		return;
	}
	default:
		return;
	}
}

static __always_inline void parse_ipv4(struct pkt_meta *m, void *p, void *end)
{
	struct iphdr *ip = p;
	if ((void *)(ip + 1) > end) {
		m->flags |= META_TRUNCATED;
		return;
	}
	map_v4(m->src, ip->saddr);
	map_v4(m->dst, ip->daddr);
	m->proto = ip->protocol;
	m->ttl = ip->ttl;
	__u32 ihl = ip->ihl * 4;
	if (ihl < sizeof(*ip)) {
		m->flags |= META_TRUNCATED;
		return;
	}
	__u16 frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x3fff) /* MF or an offset */
		m->flags |= META_FRAGMENT;
	if (frag & 0x1fff) {
		m->flags |= META_LATER_FRAG;
		return;
	}
	parse_l4(m, p + ihl, end);
}

static __always_inline void parse_ipv6(struct pkt_meta *m, void *p, void *end)
{
	struct ipv6hdr *ip6 = p;
	if ((void *)(ip6 + 1) > end) {
		m->flags |= META_TRUNCATED;
		return;
	}
	__builtin_memcpy(m->src, &ip6->saddr, 16);
	__builtin_memcpy(m->dst, &ip6->daddr, 16);
	m->ttl = ip6->hop_limit;
	__u8 nh = ip6->nexthdr;
	void *q = ip6 + 1;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		struct ipv6_ext *e = q;
		if (nh != 0 && nh != 43 && nh != 60 && nh != 44 && nh != 51)
			break;
		if ((void *)(e + 1) > end) {
			m->proto = nh;
			m->flags |= META_TRUNCATED;
			return;
		}
		if (nh == 44) { /* fragment header: 8 bytes */
			m->flags |= META_FRAGMENT;
			if (bpf_ntohs(e->frag_off) & 0xfff8) {
				m->proto = e->nexthdr;
				m->flags |= META_LATER_FRAG;
				return;
			}
			q += 8;
		} else if (nh == 51) { /* AH: (len + 2) 4-byte words */
			q += ((__u32)e->hdrlen + 2) * 4;
		} else { /* hop-by-hop, routing, destination options: (len + 1) 8-byte units */
			q += ((__u32)e->hdrlen + 1) * 8;
		}
		nh = e->nexthdr;
	}
	m->proto = nh;
	if (nh == 0 || nh == 43 || nh == 60 || nh == 44 || nh == 51) {
		m->flags |= META_TRUNCATED; /* more extension headers than we follow */
		return;
	}
	parse_l4(m, q, end);
}

static __always_inline void parse_arp(struct pkt_meta *m, void *p, void *end)
{
	struct arp_ipv4 *a = p;
	if ((void *)(a + 1) > end) {
		m->flags |= META_TRUNCATED;
		return;
	}
	m->icmp_type = (__u8)bpf_ntohs(a->op);
	if (a->hln != 6 || a->pln != 4 || a->pro != bpf_htons(ETH_P_IP_))
		return;
	__u32 spa, tpa;
	__builtin_memcpy(&spa, a->spa, 4);
	__builtin_memcpy(&tpa, a->tpa, 4);
	map_v4(m->src, spa);
	map_v4(m->dst, tpa);
}

static __always_inline void parse(struct xdp_md *ctx, struct pkt_meta *m)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	m->len = (__u32)(end - data);
	m->ifindex = ctx->ingress_ifindex;
	m->rx_queue = ctx->rx_queue_index;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end) {
		m->flags |= META_TRUNCATED;
		return;
	}
	__be16 proto = eth->h_proto;
	void *p = eth + 1;
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q_) && proto != bpf_htons(ETH_P_8021AD_) && proto != bpf_htons(ETH_P_QINQ1_))
			break;
		struct vlan_tag *v = p;
		if ((void *)(v + 1) > end) {
			m->flags |= META_TRUNCATED;
			m->ethertype = bpf_ntohs(proto);
			return;
		}
		m->vlan[i] = bpf_ntohs(v->tci) & 0x0fff;
		m->nvlan = i + 1;
		proto = v->proto;
		p = v + 1;
	}
	m->ethertype = bpf_ntohs(proto);
	switch (m->ethertype) {
	case ETH_P_IP_:
		parse_ipv4(m, p, end);
		break;
	case ETH_P_IPV6_:
		parse_ipv6(m, p, end);
		break;
	case ETH_P_ARP_:
		parse_arp(m, p, end);
		break;
	case ETH_P_8021Q_:
	case ETH_P_8021AD_:
	case ETH_P_QINQ1_:
		m->nvlan = 3; /* a third tag: not followed */
		break;
	default:
		break;
	}
}

static __always_inline bool in_range(__u16 v, __u16 lo, __u16 hi)
{
	return v >= lo && v <= hi;
}

static __always_inline bool addr_match(const __u8 *a16, const volatile __u32 *want, const volatile __u32 *mask)
{
	const __u32 *a = (const __u32 *)a16;
	return (a[0] & mask[0]) == want[0] && (a[1] & mask[1]) == want[1] &&
	       (a[2] & mask[2]) == want[2] && (a[3] & mask[3]) == want[3];
}

static __always_inline bool match(const volatile struct xdp_match *r, const struct pkt_meta *m)
{
	__u32 f = r->fields;
	if ((f & MF_ETHERTYPE) && m->ethertype != r->ethertype)
		return false;
	if ((f & MF_IP) && m->ethertype != ETH_P_IP_ && m->ethertype != ETH_P_IPV6_)
		return false;
	if ((f & MF_PROTO) && m->proto != r->proto)
		return false;
	if ((f & MF_VLAN) && m->vlan[0] != r->vlan)
		return false;
	if ((f & MF_ICMP_TYPE) && (m->proto != 1 && m->proto != 58 && m->ethertype != ETH_P_ARP_ || m->icmp_type != r->icmp_type))
		return false;
	if (f & (MF_SPORT | MF_DPORT | MF_PORT)) {
		if (!(m->flags & META_HAS_PORTS))
			return false;
		if ((f & MF_SPORT) && !in_range(m->sport, r->sport_lo, r->sport_hi))
			return false;
		if ((f & MF_DPORT) && !in_range(m->dport, r->dport_lo, r->dport_hi))
			return false;
		if ((f & MF_PORT) && !in_range(m->sport, r->dport_lo, r->dport_hi) && !in_range(m->dport, r->dport_lo, r->dport_hi))
			return false;
	}
	if (f & (MF_SRC | MF_DST | MF_ADDR)) {
		/* only packets with addresses: IP, or ARP for IPv4 */
		if (m->ethertype != ETH_P_IP_ && m->ethertype != ETH_P_IPV6_ && m->ethertype != ETH_P_ARP_)
			return false;
		if ((f & MF_SRC) && !addr_match(m->src, r->src, r->src_mask))
			return false;
		if ((f & MF_DST) && !addr_match(m->dst, r->dst, r->dst_mask))
			return false;
		if ((f & MF_ADDR) && !addr_match(m->src, r->src, r->src_mask) && !addr_match(m->dst, r->src, r->src_mask))
			return false;
	}
	return true;
}

SEC("xdp")
int xdp_packets(struct xdp_md *ctx)
{
	struct pkt_meta m = {};
	__u32 zero = 0;
	int verdict = XDP_PASS;

	parse(ctx, &m);
	m.rule = -1;
	struct xdp_totals *tot = bpf_map_lookup_elem(&xdp_totals, &zero);
	if (!tot)
		return XDP_PASS;
	tot->packets += 1;
	tot->bytes += m.len;
	if (m.flags & META_TRUNCATED)
		tot->truncated += 1;

#pragma unroll
	for (int i = 0; i < XDP_MAX_RULES; i++) {
		if (i >= cfg_nrules)
			break;
		if (!match(&cfg_rules[i], &m))
			continue;
		m.rule = i;
		tot->rule_packets[i] += 1;
		tot->rule_bytes[i] += m.len;
		if (cfg_rules[i].action == VERDICT_DROP) {
			if (cfg_dry_run) {
				m.action = VERDICT_WOULD_DROP;
				tot->would_drop += 1;
				tot->would_drop_bytes += m.len;
			} else {
				m.action = VERDICT_DROP;
				tot->dropped += 1;
				tot->dropped_bytes += m.len;
				verdict = XDP_DROP;
			}
		}
		break;
	}

	if (cfg_has_where && !match(&cfg_where, &m)) {
		stat_inc(STAT_FILTERED);
		return verdict;
	}

	if (cfg_mode == RUN_SAMPLE) {
		if (cfg_sample_every > 1 && bpf_get_prandom_u32() % cfg_sample_every) {
			tot->sampled_out += 1;
			return verdict;
		}
		stat_inc(STAT_PRODUCED);
		struct xdp_event *ev = bpf_ringbuf_reserve(&events, sizeof(struct xdp_event), 0);
		if (!ev) {
			stat_inc(STAT_LOST);
			return verdict;
		}
		ev->hdr.ts = bpf_ktime_get_ns();
		ev->hdr.pid = 0;
		ev->hdr.tid = 0;
		ev->hdr.cpu = bpf_get_smp_processor_id();
		ev->hdr.flags = 0;
		__builtin_memset(ev->hdr.comm, 0, COMM_LEN);
		__builtin_memcpy(&ev->m, &m, sizeof(m));
		stream_submit(ev);
		return verdict;
	}

	/* aggregate: cut the key out of pkt_meta. The copies are contiguous and sorted by
	 * key offset, so each 16-byte copy's overhang is overwritten by the next one and
	 * the last one's is zeroed (cfg_key_end); byte-wise, as the offsets are unaligned. */
	struct {
		__u8 b[MAX_KEY + 16];
	} key = {};
	struct {
		struct pkt_meta m;
		__u8 slack[16];
	} w = {};
	w.m = m;
#pragma unroll
	for (int i = 0; i < XDP_MAX_COPIES; i++) {
		if (i >= cfg_ncopies)
			break;
		__u32 mo = cfg_copies[i].moff & (XDP_META_SIZE - 1), ko = cfg_copies[i].koff & (MAX_KEY - 1);
		__builtin_memcpy(key.b + ko, (__u8 *)&w + mo, 16);
	}
	__u32 ke = cfg_key_end;
	if (ke > MAX_KEY)
		ke = MAX_KEY;
	__builtin_memset(key.b + ke, 0, 16);
	if (cfg_hist) {
		__u32 b = bucket_of((__s64)m.len);
		__u32 bo = cfg_bucket_koff & (MAX_KEY - 4);
		__builtin_memcpy(key.b + bo, &b, 4);
	}
	stat_inc(STAT_PRODUCED);
	add(key.b, (__s64)m.len);
	return verdict;
}

/* The floor for benchmarks: the cheapest XDP program there is. */
SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
