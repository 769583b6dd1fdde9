/*
 * segment.h - the layout of a connection's shared segment: a header, two ring control blocks
 * (client to server, server to client) and the slots of both rings. A slot holds a slot header
 * followed by a PORT_MESSAGE, its data and the attributes that travel with it, so a C reader of
 * a slot sees the Windows structs byte for byte.
 *
 *   0x000  ALPC_SEGMENT_HEADER   (64 bytes)
 *   0x040  ALPC_RING_CONTROL[0]  requests and datagrams, client -> server (256 bytes)
 *   0x140  ALPC_RING_CONTROL[1]  replies and datagrams, server -> client (256 bytes)
 *   0x240  SlotCount slots of ring 0, then SlotCount slots of ring 1, SlotSize bytes each
 *
 * Every word is written by one side only and read by both; each side validates what it reads.
 */
#ifndef ALPC_SEGMENT_H
#define ALPC_SEGMENT_H

#include <alpc/ntalpc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** "SWALPC01" read as a little-endian 64-bit integer. */
#define ALPC_SEGMENT_MAGIC 0x3130435041574153ull
#define ALPC_SEGMENT_VERSION 2u
/** ClosedFlags bits. */
#define ALPC_SEGMENT_SERVER_CLOSED 0x1u
#define ALPC_SEGMENT_CLIENT_CLOSED 0x2u

/** The first cache line of a segment; written once by the server before the client maps it. */
typedef struct _ALPC_SEGMENT_HEADER {
    ULONG64 Magic;
    ULONG Version;
    ULONG SlotSize;
    ULONG SlotCount;
    ULONG MaxMessageLength;
    ULONG ClosedFlags;
    ULONG ServerPid;
    ULONG64 SegmentSize;
    ULONG SlotsOffset;
    ULONG Reserved;
    UCHAR Padding[16];
} ALPC_SEGMENT_HEADER;

/**
 * One ring's indices and wait flags, on four cache lines: what a side writes for every message
 * (Tail, Head) apart from what it writes only when it starts or ends a wait (the *Cpu and
 * *Sleeping words), so that the other side's check of those after each publish or release reads
 * a line that stays in its cache while both sides are busy. Tail and Head are free-running slot
 * counts; a *Cpu word is 1 + its side's CPU, with bit 31 set while that side sleeps (0: not known
 * yet); a *Sleeping word is nonzero while its side wants a wake-up: bit 0 (1) on the futex (the
 * Tail word for a consumer, Head for a producer), bit 1 (2, a client's ConsumerSleeping only)
 * through the doorbell the client sent in a WAKEUP control packet.
 */
typedef struct _ALPC_RING_CONTROL {
    ULONG Tail;
    UCHAR Padding0[60];
    ULONG ProducerCpu;
    ULONG ProducerSleeping;
    UCHAR Padding1[56];
    ULONG Head;
    UCHAR Padding2[60];
    ULONG ConsumerCpu;
    ULONG ConsumerSleeping;
    UCHAR Padding3[56];
} ALPC_RING_CONTROL;

/** The offsets of ALPC_RING_CONTROL's words (checked against offsetof below). */
#define ALPC_RING_TAIL_OFFSET 0
#define ALPC_RING_PRODUCER_CPU_OFFSET 64
#define ALPC_RING_PRODUCER_SLEEPING_OFFSET 68
#define ALPC_RING_HEAD_OFFSET 128
#define ALPC_RING_CONSUMER_CPU_OFFSET 192
#define ALPC_RING_CONSUMER_SLEEPING_OFFSET 196

/** Kinds of record in a slot. */
#define ALPC_RECORD_REQUEST 1u
#define ALPC_RECORD_ASYNC_REQUEST 2u
#define ALPC_RECORD_DATAGRAM 3u
#define ALPC_RECORD_REPLY 4u

/**
 * The header of a slot. RecordLength counts the bytes after this header: the PORT_MESSAGE, its
 * data padded to 8 bytes, then AttributeLength bytes of attributes. Cookie pairs a reply with the
 * request it answers; Flags holds ALPC_SLOT_FLAG_* bits.
 *
 * The attributes, when AttributeLength is not 0, are a Windows attribute buffer: an
 * ALPC_MESSAGE_ATTRIBUTES whose AllocatedAttributes and ValidAttributes both name the attributes
 * that travel (security, view, handle, direct, work-on-behalf), their blobs in descending flag
 * order, then extra payload (the security attribute's QoS). Values that mean nothing in another
 * process are replaced: the view's SectionHandle is the sender's section id and its ViewBase the
 * view's offset in that section; the security QoS is the offset of its copy from the start of
 * the attribute buffer; handles and the direct event are 0 (their descriptors travel on the
 * control socket).
 */
typedef struct _ALPC_SLOT_HEADER {
    ULONG RecordLength;
    USHORT Kind;
    USHORT Flags;
    ULONG Cookie;
    ULONG AttributeLength;
} ALPC_SLOT_HEADER;

/** Slot flag: the sender sent an ATTACHMENT control packet (descriptors, sections) for this
 *  record before publishing it; the receiver reads the control socket up to that packet. */
#define ALPC_SLOT_FLAG_ATTACHMENT 0x1u

/** The most attribute bytes a record carries after its data. */
#define ALPC_SLOT_ATTRIBUTE_RESERVE 512u

#define ALPC_SEGMENT_RINGS_OFFSET 0x40u
#define ALPC_SEGMENT_SLOTS_OFFSET 0x240u

_Static_assert(sizeof(ALPC_SEGMENT_HEADER) == 64, "ALPC_SEGMENT_HEADER is one cache line");
_Static_assert(offsetof(ALPC_SEGMENT_HEADER, SlotSize) == 12, "SlotSize at 12");
_Static_assert(offsetof(ALPC_SEGMENT_HEADER, ClosedFlags) == 24, "ClosedFlags at 24");
_Static_assert(offsetof(ALPC_SEGMENT_HEADER, SegmentSize) == 32, "SegmentSize at 32");
_Static_assert(offsetof(ALPC_SEGMENT_HEADER, SlotsOffset) == 40, "SlotsOffset at 40");
_Static_assert(sizeof(ALPC_RING_CONTROL) == 256, "ALPC_RING_CONTROL is four cache lines");
_Static_assert(offsetof(ALPC_RING_CONTROL, Tail) == ALPC_RING_TAIL_OFFSET, "Tail on the first cache line");
_Static_assert(offsetof(ALPC_RING_CONTROL, ProducerCpu) == ALPC_RING_PRODUCER_CPU_OFFSET
               && offsetof(ALPC_RING_CONTROL, ProducerSleeping) == ALPC_RING_PRODUCER_SLEEPING_OFFSET,
               "the producer's wait words on the second cache line");
_Static_assert(offsetof(ALPC_RING_CONTROL, Head) == ALPC_RING_HEAD_OFFSET, "Head on the third cache line");
_Static_assert(offsetof(ALPC_RING_CONTROL, ConsumerCpu) == ALPC_RING_CONSUMER_CPU_OFFSET
               && offsetof(ALPC_RING_CONTROL, ConsumerSleeping) == ALPC_RING_CONSUMER_SLEEPING_OFFSET,
               "the consumer's wait words on the fourth cache line");
_Static_assert(sizeof(ALPC_SLOT_HEADER) == 16, "ALPC_SLOT_HEADER is 16 bytes");
_Static_assert(ALPC_SEGMENT_SLOTS_OFFSET == ALPC_SEGMENT_RINGS_OFFSET + 2 * sizeof(ALPC_RING_CONTROL),
               "slots follow the two ring control blocks");

#ifdef __cplusplus
}
#endif

#endif /* ALPC_SEGMENT_H */
