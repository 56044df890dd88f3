// Bounds what clients can hold of the server, below the router, with two NIO channel handlers:
// - `ConnectionAdmissionHandler`, first in every connection's pipeline (bytes, before HTTP and
//   WebSocket decoding): at most `max_connections` connections; one more gets 503 on its first
//   bytes and is closed; a connection that sends nothing for `idle_timeout_s` is closed (HTTP
//   keep-alive, a client that connects and never speaks; WebSocket clients answer the live
//   feed's pings every 30 s, which counts);
// - `RequestGuardHandler`, after HTTP decoding: a request must arrive whole (head and body)
//   within `request_timeout_s` of its head, so a body trickled byte by byte cannot hold a
//   connection; at most `max_bodies_in_flight` bodies are being received at once, one more gets
//   503 with Retry-After before its body is read, so memory is bounded before the inference
//   queue is even reached.
// Refusals carry `Connection: close` and the connection is closed after them.

import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Synchronization
import Foundation

/// The limits and the counts they are checked against, shared by all connections.
final class ConnectionLimits: Sendable {
    let maxConnections: Int
    let maxBodiesInFlight: Int
    let requestTimeout: TimeAmount
    let idleTimeout: TimeAmount
    private let connections = Atomic<Int>(0)
    private let bodies = Atomic<Int>(0)
    private let refusals = Atomic<Int>(0)
    private let timeouts = Atomic<Int>(0)

    init(maxConnections: Int, maxBodiesInFlight: Int, requestTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.maxConnections = maxConnections
        self.maxBodiesInFlight = maxBodiesInFlight
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
    }

    var openConnections: Int { connections.load(ordering: .relaxed) }
    var bodiesInFlight: Int { bodies.load(ordering: .relaxed) }
    /// Requests refused for a limit since start.
    var refused: Int { refusals.load(ordering: .relaxed) }
    /// Connections closed because a request did not arrive in time.
    var timedOut: Int { timeouts.load(ordering: .relaxed) }

    /// Counts a connection in; false when that passes the cap (it stays counted until released).
    func openConnection() -> Bool { connections.wrappingAdd(1, ordering: .relaxed).newValue <= maxConnections }
    func closeConnection() { connections.wrappingSubtract(1, ordering: .relaxed) }
    func takeBody() -> Bool {
        if bodies.wrappingAdd(1, ordering: .relaxed).newValue <= maxBodiesInFlight { return true }
        bodies.wrappingSubtract(1, ordering: .relaxed)
        return false
    }
    func releaseBody() { bodies.wrappingSubtract(1, ordering: .relaxed) }
    func recordRefusal() { refusals.wrappingAdd(1, ordering: .relaxed) }
    func recordTimeout() { timeouts.wrappingAdd(1, ordering: .relaxed) }
}

/// Counts connections against the cap and closes silent ones (see the file comment).
final class ConnectionAdmissionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: ConnectionLimits
    private var counted = false
    private var admitted = true
    private var lastRead = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        guard admitted else {
            // Answered once, in plain bytes (nothing above this handler has parsed anything).
            admitted = true
            limits.recordRefusal()
            let body = #"{"error":"Server busy: too many connections, retry shortly"}"#
            let answer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
                + "Connection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !counted else { return }
        counted = true
        admitted = limits.openConnection()
        lastRead = .now()
        scheduleIdleCheck(context, in: limits.idleTimeout)
    }

    private func scheduleIdleCheck(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        let loop = context.eventLoop.assumeIsolated()
        let channel = context.channel
        let limits = limits
        idleCheck = loop.scheduleTask(in: delay) { [self] in
            let silent = NIODeadline.now() - lastRead
            if silent >= limits.idleTimeout {
                channel.close(promise: nil)
            } else {
                scheduleIdleCheck(context, in: limits.idleTimeout - silent)
            }
        }
    }

    private func stop() {
        idleCheck?.cancel()
        idleCheck = nil
        if counted {
            counted = false
            limits.closeConnection()
        }
    }
}

/// One connection's request deadline and body slot (see the file comment); on the connection's
/// event loop only; removed at a WebSocket upgrade.
final class RequestGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ConnectionLimits
    private var holdsBody = false
    /// The parts of a refused request are dropped until the connection closes.
    private var refusing = false
    private var deadline: Scheduled<Void>?

    init(limits: ConnectionLimits) {
        self.limits = limits
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refusing { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            if Self.hasBody(head) {
                guard limits.takeBody() else { return refuse(context, "too many request bodies in flight") }
                holdsBody = true
            }
            startDeadline(context)
        case .body:
            break
        case .end:
            deadline?.cancel()
            deadline = nil
            releaseBody()
        }
        context.fireChannelRead(data)
    }

    private static func hasBody(_ head: HTTPRequest) -> Bool {
        if let length = head.headerFields[.contentLength] { return length != "0" }
        return head.headerFields[.transferEncoding] != nil
    }

    private func release() {
        deadline?.cancel()
        deadline = nil
        releaseBody()
    }

    private func releaseBody() {
        if holdsBody {
            holdsBody = false
            limits.releaseBody()
        }
    }

    private func startDeadline(_ context: ChannelHandlerContext) {
        deadline?.cancel()
        let limits = limits
        let channel = context.channel
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: limits.requestTimeout) {
            limits.recordTimeout()
            channel.close(promise: nil)
        }
    }

    /// 503 with Retry-After and `Connection: close`, then the connection is closed.
    private func refuse(_ context: ChannelHandlerContext, _ reason: String) {
        refusing = true
        limits.recordRefusal()
        let body = ByteBuffer(string: #"{"error":"Server busy: \#(reason), retry shortly"}"#)
        let head = HTTPResponse(status: .serviceUnavailable, headerFields: [
            .contentType: "application/json", .contentLength: String(body.readableBytes), .retryAfter: "1", .connection: "close",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Answers 401 to a `/ws/live` upgrade whose token does not grant reads, before the WebSocket
/// upgrader sees it (Hummingbird's upgrader can only answer a declined upgrade with 400). Looks
/// at the connection's first request only, then leaves the pipeline.
final class WebSocketAccessHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let tokens: AccessTokens
    private var refusing = false

    init(tokens: AccessTokens) {
        self.tokens = tokens
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refusing { return }
        if case .head(let head) = unwrapInboundIn(data), head.headers.contains(name: "upgrade"), head.uri.hasPrefix("/ws/"), !granted(head) {
            refusing = true
            let body = #"{"error":"Missing or invalid API token for the read scope: send Authorization: Bearer <token> or ?access_token="}"#
            let headers = HTTPHeaders([("Content-Type", "application/json"), ("WWW-Authenticate", "Bearer"), ("Connection", "close"),
                                       ("Content-Length", String(body.utf8.count))])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .unauthorized, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func granted(_ head: HTTPRequestHead) -> Bool {
        let token = AccessTokens.token(
            authorization: head.headers.first(name: "authorization"), scope: .read,
            accessToken: URLComponents(string: head.uri)?.queryItems?.first { $0.name == "access_token" }?.value)
        return tokens.grants(token, .read)
    }
}

/// The server's channel: the line's HTTP/1 + WebSocket channel with `ConnectionAdmissionHandler`
/// in front of it (after the TLS handler when there is one, so it sees the plain bytes) and,
/// when tokens are set, `WebSocketAccessHandler` after the HTTP decoder.
struct GuardedServerChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value
    let inner: Inner
    let limits: ConnectionLimits
    let tokens: AccessTokens

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(ConnectionAdmissionHandler(limits: limits), position: .last)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let tokens = tokens
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            if !tokens.isOpen {
                let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
                try channel.pipeline.syncOperations.addHandler(WebSocketAccessHandler(tokens: tokens), position: .after(decoder))
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with the live feed's WebSocket upgrade, behind the connection limits.
    static func guardedHTTP1WebSocket<WSRouter: HTTPResponderBuilder>(
        webSocketRouter: WSRouter, limits: ConnectionLimits, tokens: AccessTokens
    ) -> HTTPServerBuilder where WSRouter.Responder.Context: WebSocketRequestContext {
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            GuardedServerChannel(
                inner: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder,
                    configuration: .init(http1: .init(additionalChannelHandlers: [RequestGuardHandler(limits: limits)]))),
                limits: limits, tokens: tokens)
        }
    }
}
