/*
 * advanced_alpc.c - the seed's advanced_alpc sample and its test_alpc tests (bytes NUL and
 * 0xFF round-trip, a view's content), written in C against the NT API.
 *
 * `advanced_alpc server NAME` serves clients until one has left: it accepts with the port
 * context 0x11223344 and "Connection message response", prints each request's attributes (a
 * view's text, a file handle's content, the context and token), and replies
 * "REQUEST '<data>' DONE" (or "Message 2-" and the bytes 0..255 to test_alpc's request).
 * `advanced_alpc client NAME` runs the sample's client and test_alpc's two tests against it;
 * `advanced_alpc sample-client NAME` the sample's client alone.
 */
#include "capi_test.h"

#include <fcntl.h>

#define PORT_CONTEXT ((PVOID)(ULONG_PTR)0x11223344)

static const UCHAR testRequest[] = {'M', 'e', 's', 's', 'a', 'g', 'e', ' ', '1', 0x00, 0xFF, 'A', 'B', 'C', 'D'};

static void init_attributes(ATTRIBUTES *attributes) {
    capi_init_attributes(&attributes->Header, sizeof *attributes, ALPC_MESSAGE_ATTRIBUTE_ALL);
}

static void set_data(MESSAGE *message, const void *data, size_t length) { capi_set_data(&message->Header, data, length); }

/* The 266-byte reply to test_alpc's request: "Message 2-" and the bytes 0..255. */
static size_t test_reply(UCHAR *out) {
    memcpy(out, "Message 2-", 10);
    for (int i = 0; i < 256; i++) out[10 + i] = (UCHAR)i;
    return 266;
}

static int server(const char *name) {
    wchar_t portName[128];
    capi_widen(name, portName, 128);
    UNICODE_STRING usPortName;
    RtlInitUnicodeString(&usPortName, portName);
    OBJECT_ATTRIBUTES objectAttributes;
    InitializeObjectAttributes(&objectAttributes, &usPortName, 0, NULL, NULL);
    ALPC_PORT_ATTRIBUTES portAttributes;
    RtlZeroMemory(&portAttributes, sizeof portAttributes);
    portAttributes.MaxMessageLength = sizeof(MESSAGE);
    portAttributes.MaxSectionSize = portAttributes.MaxViewSize = portAttributes.MaxTotalSectionSize = 0xFFFFFFFF;
    portAttributes.DupObjectTypes = 0xFFFFFFFF;
    HANDLE hPort = NULL;
    CHECK_STATUS(NtAlpcCreatePort(&hPort, &objectAttributes, &portAttributes), STATUS_SUCCESS);
    printf("[SERV] PORT <%s> CREATED, pid %d\n", name, (int)GetCurrentProcessId());

    MESSAGE message;
    ATTRIBUTES attributes;
    HANDLE communication[8];
    int connections = 0;
    ULONG lastSequence = 0;
    LARGE_INTEGER timeout = capi_ms(15000);
    for (;;) {
        SIZE_T length = sizeof message;
        init_attributes(&attributes);
        CHECK_STATUS(NtAlpcSendWaitReceivePort(hPort, 0, NULL, NULL, &message.Header, &length, &attributes.Header,
                                               &timeout),
                     STATUS_SUCCESS);
        USHORT type = LOBYTE(message.Header.u2.s2.Type);
        if (type == LPC_CONNECTION_REQUEST) {
            printf("[SERV] connection data: <%.*s>\n", message.Header.u1.s1.DataLength, (char *)message.Data);
            const char *response = "Connection message response";
            set_data(&message, response, strlen(response));
            ALPC_PORT_ATTRIBUTES acceptAttributes;
            RtlZeroMemory(&acceptAttributes, sizeof acceptAttributes);
            acceptAttributes.Flags = ALPC_PORFLG_ALLOW_DUP_OBJECT;
            acceptAttributes.MaxMessageLength = sizeof(MESSAGE);
            CHECK(connections < 8, "too many connections");
            CHECK_STATUS(NtAlpcAcceptConnectPort(&communication[connections++], hPort, 0, NULL, &acceptAttributes,
                                                 PORT_CONTEXT, &message.Header, NULL, TRUE),
                         STATUS_SUCCESS);
            continue;
        }
        if (type == LPC_PORT_CLOSED || type == LPC_CLIENT_DIED) {
            ALPC_CONTEXT_ATTR *context = AlpcGetMessageAttribute(&attributes.Header, ALPC_MESSAGE_CONTEXT_ATTRIBUTE);
            CHECK(attributes.Header.ValidAttributes & ALPC_MESSAGE_CONTEXT_ATTRIBUTE, "no context on LPC_PORT_CLOSED");
            CHECK(context->PortContext == PORT_CONTEXT, "port context %p", context->PortContext);
            printf("[SERV] client left (type %u)\n", (unsigned)type);
            break;
        }
        CHECK(type == LPC_REQUEST, "unexpected message type <%u>", (unsigned)type);
        int dataLength = message.Header.u1.s1.DataLength;
        printf("[SERV] data: <%.*s>\n", dataLength, (char *)message.Data);

        ULONG valid = attributes.Header.ValidAttributes;
        printf("[SERV] view_is_valid: %s\n", (valid & ALPC_MESSAGE_VIEW_ATTRIBUTE) ? "true" : "false");
        if (valid & ALPC_MESSAGE_VIEW_ATTRIBUTE) {
            ALPC_DATA_VIEW_ATTR *view = AlpcGetMessageAttribute(&attributes.Header, ALPC_MESSAGE_VIEW_ATTRIBUTE);
            CHECK(view->ViewBase != NULL && view->ViewSize > 0, "view %p size %zu", view->ViewBase,
                  (size_t)view->ViewSize);
            const UCHAR *bytes = view->ViewBase;
            if (memcmp(bytes, "Message Data-view", 17) == 0) {
                for (int i = 0; i < 256; i++) CHECK(bytes[17 + i] == i, "view byte %d is %u", 17 + i, bytes[17 + i]);
                printf("[SERV] view content: test_view_alpc bytes\n");
            } else {
                printf("[SERV] view content: <%s>\n", (const char *)bytes);
            }
            attributes.Header.ValidAttributes &= ~ALPC_MESSAGE_VIEW_ATTRIBUTE;
        }
        printf("[SERV] security_is_valid: %s\n", (valid & ALPC_MESSAGE_SECURITY_ATTRIBUTE) ? "true" : "false");
        printf("[SERV] handle_is_valid: %s\n", (valid & ALPC_MESSAGE_HANDLE_ATTRIBUTE) ? "true" : "false");
        if (valid & ALPC_MESSAGE_HANDLE_ATTRIBUTE) {
            ALPC_HANDLE_ATTR *handle = AlpcGetMessageAttribute(&attributes.Header, ALPC_MESSAGE_HANDLE_ATTRIBUTE);
            printf("[SERV] handle attribute: {Flags 0x%x, ObjectType %u, DesiredAccess 0x%x}\n",
                   (unsigned)handle->Flags, (unsigned)handle->ObjectType, (unsigned)handle->DesiredAccess);
            CHECK(handle->ObjectType == 1, "object type %u", (unsigned)handle->ObjectType);
            int fd = (int)(intptr_t)handle->Handle;
            char content[256] = {0};
            ssize_t got = pread(fd, content, sizeof content - 1, 0);
            CHECK(got >= 0, "read of the received file: %s", strerror(errno));
            printf("[SERV] file content: <%s>\n", content);
            CHECK_STATUS(NtClose(handle->Handle), STATUS_SUCCESS);
            attributes.Header.ValidAttributes &= ~ALPC_MESSAGE_HANDLE_ATTRIBUTE;
        }
        CHECK(valid & ALPC_MESSAGE_CONTEXT_ATTRIBUTE, "no context attribute");
        ALPC_CONTEXT_ATTR *context = AlpcGetMessageAttribute(&attributes.Header, ALPC_MESSAGE_CONTEXT_ATTRIBUTE);
        printf("[SERV] context: {PortContext %p, Sequence %u}\n", context->PortContext, (unsigned)context->Sequence);
        CHECK(context->PortContext == PORT_CONTEXT, "port context %p", context->PortContext);
        CHECK(context->Sequence > lastSequence, "sequence %u after %u", (unsigned)context->Sequence,
              (unsigned)lastSequence);
        lastSequence = context->Sequence;
        if (valid & ALPC_MESSAGE_TOKEN_ATTRIBUTE) {
            ALPC_TOKEN_ATTR *token = AlpcGetMessageAttribute(&attributes.Header, ALPC_MESSAGE_TOKEN_ATTRIBUTE);
            printf("[SERV] token: {TokenId 0x%llx, ModifiedId 0x%llx}\n", (unsigned long long)token->TokenId,
                   (unsigned long long)token->ModifiedId);
        }

        UCHAR reply[0x400];
        size_t replyLength;
        if (dataLength == (int)sizeof testRequest && memcmp(message.Data, testRequest, sizeof testRequest) == 0) {
            replyLength = test_reply(reply);
        } else {
            replyLength = (size_t)snprintf((char *)reply, sizeof reply, "REQUEST '%.*s' DONE", dataLength,
                                           (char *)message.Data);
        }
        set_data(&message, reply, replyLength);
        attributes.Header.ValidAttributes &= ALPC_MESSAGE_CONTEXT_ATTRIBUTE;
        CHECK_STATUS(NtAlpcSendWaitReceivePort(hPort, 0, &message.Header, &attributes.Header, NULL, NULL, NULL, NULL),
                     STATUS_SUCCESS);
        fflush(stdout);
    }
    for (int i = 0; i < connections; i++) CHECK_STATUS(NtClose(communication[i]), STATUS_SUCCESS);
    CHECK_STATUS(NtClose(hPort), STATUS_SUCCESS);
    printf("[SERV] BYE\n");
    return 0;
}

/* Sends `message` and waits for the reply, with the attributes the caller set. */
static void send_receive(HANDLE port, MESSAGE *message, ATTRIBUTES *sendAttributes, ATTRIBUTES *receiveAttributes) {
    SIZE_T length = sizeof *message;
    LARGE_INTEGER timeout = capi_ms(10000);
    CHECK_STATUS(NtAlpcSendWaitReceivePort(port, ALPC_MSGFLG_SYNC_REQUEST, &message->Header,
                                           sendAttributes ? &sendAttributes->Header : NULL, &message->Header, &length,
                                           receiveAttributes ? &receiveAttributes->Header : NULL, &timeout),
                 STATUS_SUCCESS);
    CHECK(LOBYTE(message->Header.u2.s2.Type) == LPC_REPLY, "reply type 0x%x", (unsigned)message->Header.u2.s2.Type);
}

static void expect_reply(MESSAGE *message, const char *expected) {
    CHECK(message->Header.u1.s1.DataLength == (CSHORT)strlen(expected) &&
              memcmp(message->Data, expected, strlen(expected)) == 0,
          "reply <%.*s>, expected <%s>", message->Header.u1.s1.DataLength, (char *)message->Data, expected);
    printf("[CLIENT] Response: <%s>\n", expected);
}

static int client(const char *name, BOOLEAN withTests) {
    wchar_t portName[128];
    capi_widen(name, portName, 128);
    UNICODE_STRING usPortName;
    RtlInitUnicodeString(&usPortName, portName);

    MESSAGE message;
    RtlZeroMemory(&message, sizeof message);
    const char *connectData = "Connection request client message";
    set_data(&message, connectData, strlen(connectData));
    SIZE_T length = sizeof message;
    HANDLE hPort = NULL;
    LARGE_INTEGER timeout = capi_ms(10000);
    CHECK_STATUS(NtAlpcConnectPort(&hPort, &usPortName, NULL, NULL, ALPC_MSGFLG_SYNC_REQUEST, NULL, &message.Header,
                                   &length, NULL, NULL, &timeout),
                 STATUS_SUCCESS);
    expect_reply(&message, "Connection message response");

    /* A plain request; the reply carries the context attribute. */
    ATTRIBUTES receiveAttributes, sendAttributes;
    init_attributes(&receiveAttributes);
    RtlZeroMemory(&message, sizeof message);
    set_data(&message, "Complex Message 1", 17);
    send_receive(hPort, &message, NULL, &receiveAttributes);
    expect_reply(&message, "REQUEST 'Complex Message 1' DONE");
    CHECK(receiveAttributes.Header.ValidAttributes & ALPC_MESSAGE_CONTEXT_ATTRIBUTE, "reply attributes 0x%x",
          (unsigned)receiveAttributes.Header.ValidAttributes);

    /* A file handle. */
    char path[] = "/tmp/capi-advanced-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
    unlink(path);
    CHECK(write(fd, "Tempfile data <3", 16) == 16, "write");
    init_attributes(&sendAttributes);
    sendAttributes.Header.ValidAttributes = ALPC_MESSAGE_HANDLE_ATTRIBUTE;
    ALPC_HANDLE_ATTR *handle = AlpcGetMessageAttribute(&sendAttributes.Header, ALPC_MESSAGE_HANDLE_ATTRIBUTE);
    handle->Flags = ALPC_HANDLEFLG_DUPLICATE_SAME_ACCESS;
    handle->Handle = (HANDLE)(intptr_t)fd;
    RtlZeroMemory(&message, sizeof message);
    set_data(&message, "some message with a file", 24);
    send_receive(hPort, &message, &sendAttributes, NULL);
    expect_reply(&message, "REQUEST 'some message with a file' DONE");
    CHECK_STATUS(NtClose((HANDLE)(intptr_t)fd), STATUS_SUCCESS);

    /* A view of a new section. */
    ALPC_HANDLE section = NULL;
    SIZE_T actual = 0;
    CHECK_STATUS(NtAlpcCreatePortSection(hPort, 0, NULL, 0x4000, &section, &actual), STATUS_SUCCESS);
    CHECK(actual >= 0x4000, "section of %zu bytes", (size_t)actual);
    ALPC_DATA_VIEW_ATTR view = {0, section, NULL, 0x4000};
    CHECK_STATUS(NtAlpcCreateSectionView(hPort, 0, &view), STATUS_SUCCESS);
    strcpy(view.ViewBase, "The content of the view :)");
    init_attributes(&sendAttributes);
    sendAttributes.Header.ValidAttributes = ALPC_MESSAGE_VIEW_ATTRIBUTE;
    *(ALPC_DATA_VIEW_ATTR *)AlpcGetMessageAttribute(&sendAttributes.Header, ALPC_MESSAGE_VIEW_ATTRIBUTE) = view;
    RtlZeroMemory(&message, sizeof message);
    set_data(&message, "some message with a view", 24);
    send_receive(hPort, &message, &sendAttributes, NULL);
    expect_reply(&message, "REQUEST 'some message with a view' DONE");

    if (!withTests) goto done;

    /* test_alpc: NUL and 0xFF bytes round-trip. */
    RtlZeroMemory(&message, sizeof message);
    set_data(&message, testRequest, sizeof testRequest);
    send_receive(hPort, &message, NULL, NULL);
    UCHAR expected[266];
    test_reply(expected);
    CHECK(message.Header.u1.s1.DataLength == 266 && memcmp(message.Data, expected, 266) == 0,
          "test_alpc reply of %d bytes differs", message.Header.u1.s1.DataLength);
    printf("[CLIENT] test_simple_alpc: bytes round-trip\n");

    /* test_view_alpc: the view holds "Message Data-view" and the bytes 0..255. */
    memcpy(view.ViewBase, "Message Data-view", 17);
    for (int i = 0; i < 256; i++) ((UCHAR *)view.ViewBase)[17 + i] = (UCHAR)i;
    init_attributes(&sendAttributes);
    sendAttributes.Header.ValidAttributes = ALPC_MESSAGE_VIEW_ATTRIBUTE;
    *(ALPC_DATA_VIEW_ATTR *)AlpcGetMessageAttribute(&sendAttributes.Header, ALPC_MESSAGE_VIEW_ATTRIBUTE) = view;
    RtlZeroMemory(&message, sizeof message);
    set_data(&message, "Message with view", 17);
    send_receive(hPort, &message, &sendAttributes, NULL);
    expect_reply(&message, "REQUEST 'Message with view' DONE");
    printf("[CLIENT] test_view_alpc: view read by the server\n");

done:
    CHECK_STATUS(NtAlpcDeleteSectionView(hPort, 0, view.ViewBase), STATUS_SUCCESS);
    CHECK_STATUS(NtAlpcDeletePortSection(hPort, 0, section), STATUS_SUCCESS);
    CHECK_STATUS(NtAlpcDisconnectPort(hPort, 0), STATUS_SUCCESS);
    CHECK_STATUS(NtClose(hPort), STATUS_SUCCESS);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc == 3 && strcmp(argv[1], "server") == 0) return server(argv[2]);
    if (argc == 3 && strcmp(argv[1], "client") == 0) return client(argv[2], TRUE);
    /* The sample alone, for servers that do not know test_alpc's requests (`alpc serve`). */
    if (argc == 3 && strcmp(argv[1], "sample-client") == 0) return client(argv[2], FALSE);
    fprintf(stderr, "usage: %s server|client|sample-client NAME\n", argv[0]);
    return 2;
}
