namespace SegServe.Inference.Imaging;

/// <summary>
/// The time budget of one decode (<c>Inference:Images:MaxDecodeMilliseconds</c>), joined with the request's own
/// cancellation. ImageSharp 2.1's JPEG and TIFF decoders check the token as they go; PNG, GIF, WebP, BMP, TGA and PBM
/// do not, so <see cref="Guard"/> also checks it, and the clock, each time a decoder reads more bytes (ImageSharp reads
/// through an 8 KB buffer).
/// </summary>
internal sealed class DecodeDeadline : IDisposable
{
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _deadline;
    private readonly CancellationTokenSource _budget;
    private readonly CancellationTokenSource _either;
    private readonly CancellationToken _request;

    public DecodeDeadline(TimeSpan budget, TimeProvider timeProvider, CancellationToken request)
    {
        _time = timeProvider;
        _deadline = timeProvider.GetUtcNow() + budget;
        _budget = new CancellationTokenSource(budget, timeProvider);
        _either = CancellationTokenSource.CreateLinkedTokenSource(_budget.Token, request);
        _request = request;
    }

    /// <summary>Cancelled when the budget runs out or the request goes away.</summary>
    public CancellationToken Token => _either.Token;

    /// <summary>Whether a cancellation came from the budget (rather than the request).</summary>
    public bool Expired => _budget.IsCancellationRequested && !_request.IsCancellationRequested;

    /// <summary>The bytes, read through a check of the budget before every read.</summary>
    public Stream Guard(Stream inner) => new GuardedStream(inner, this);

    public void Dispose()
    {
        _either.Dispose();
        _budget.Dispose();
    }

    private void Check()
    {
        if (!_budget.IsCancellationRequested && _time.GetUtcNow() >= _deadline)
        {
            _budget.Cancel();
        }

        _either.Token.ThrowIfCancellationRequested();
    }

    private sealed class GuardedStream(Stream inner, DecodeDeadline deadline) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => inner.CanSeek;

        public override bool CanWrite => false;

        public override long Length => inner.Length;

        public override long Position
        {
            get => inner.Position;
            set => inner.Position = value;
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            deadline.Check();
            return inner.Read(buffer, offset, count);
        }

        public override int Read(Span<byte> buffer)
        {
            deadline.Check();
            return inner.Read(buffer);
        }

        public override int ReadByte()
        {
            deadline.Check();
            return inner.ReadByte();
        }

        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
