using SegServe.Inference.Memory;

namespace SegServe.Inference.UnitTests.Memory;

public sealed class PooledBytesTests
{
    [Theory]
    [InlineData(0, 10)]
    [InlineData(10, 10)]
    [InlineData(200_000, 200_000)]
    public async Task AStreamWithinTheLimit_IsReadWhole(int length, int limit)
    {
        byte[] data = Enumerable.Range(0, length).Select(static i => (byte)(i * 7)).ToArray();
        using PooledBytes? read = await PooledBytes.ReadAsync(new TrickleStream(data), limit, TestContext.Current.CancellationToken);

        Assert.NotNull(read);
        Assert.Equal(data, read.Memory.ToArray());
    }

    [Fact]
    public async Task AStreamOverTheLimit_IsNull_AndReadingStopsOneByteAfterIt()
    {
        var stream = new TrickleStream(new byte[1_000_000]);
        PooledBytes? read = await PooledBytes.ReadAsync(stream, 100_000, TestContext.Current.CancellationToken);

        Assert.Null(read);
        Assert.InRange(stream.Position, 100_001, 100_001 + TrickleStream.Chunk);
    }

    [Fact]
    public async Task Disposed_ItsMemoryIsGone()
    {
        PooledBytes read = (await PooledBytes.ReadAsync(new MemoryStream([1, 2, 3]), 10, TestContext.Current.CancellationToken))!;
        read.Dispose();
        read.Dispose();
        Assert.Throws<ObjectDisposedException>(() => read.Memory);
    }

    /// <summary>A stream that hands out at most <see cref="Chunk"/> bytes per read, as a network body does.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public const int Chunk = 1000;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, Chunk)], cancellationToken);
    }
}
