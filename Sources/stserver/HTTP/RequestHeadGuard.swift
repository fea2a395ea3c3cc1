import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Guards the reading of each request's head, one per connection.
///
/// A client that has not sent a whole head within `timeout` of opening the connection, or of
/// the end of the previous answer, is disconnected: without this, a client that sends its
/// headers a byte at a time, or never, holds a connection for ever. A head the decoder refuses
/// gets an answer before the connection closes — 431 when its fields are larger than the
/// decoder's limit, 400 for anything else malformed — where the server used to close without a
/// word.
final class RequestHeadGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    private var refused = false
    /// Requests whose head was read and whose answer has not ended: a pipelined head read while
    /// an answer is still being written is not waiting for anything.
    private var inFlight = 0

    init(timeout: Duration) {
        self.timeout = TimeAmount(timeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { arm(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        arm(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        disarm()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        disarm()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            inFlight += 1
            disarm()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The last answer is complete: the next request's head is due within the timeout.
        if case .end = unwrapOutboundIn(data), !refused {
            inFlight = max(0, inFlight - 1)
            if inFlight == 0 { arm(context) }
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !refused else { return }
        refused = true
        disarm()
        let status: HTTPResponse.Status
        if case .headerOverflow = parse { status = .requestHeaderFieldsTooLarge } else { status = .badRequest }
        let body = ByteBuffer(string: "{\"error\": \"\(status.code) \(status.reasonPhrase): the request's head could not be read (\(parse))\"}\n")
        var response = HTTPResponse(status: status)
        response.headerFields[.contentType] = "application/json"
        response.headerFields[.contentLength] = String(body.readableBytes)
        response.headerFields[.connection] = "close"
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    private func arm(_ context: ChannelHandlerContext) {
        disarm()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) { loopBound.value.close(promise: nil) }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }
}
