
namespace SegServe.Inference.Memory;

/// <summary>
/// Bytes read from a stream into a pooled buffer, up to a limit: an upload's file part, an archive entry. The limit is
/// enforced while reading, so a body that claims one size and holds another costs no more than the limit.
/// </summary>
public sealed class PooledBytes : IDisposable
{
    private const int InitialCapacity = 64 * 1024;

    private byte[]? _buffer;

    private PooledBytes(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => _buffer is null ? throw new ObjectDisposedException(nameof(PooledBytes)) : _buffer.AsMemory(0, Length);

    /// <summary>Reads <paramref name="stream"/> to its end; null when it holds more than <paramref name="maxBytes"/>.</summary>
    public static async Task<PooledBytes?> ReadAsync(Stream stream, long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxBytes, (long)Array.MaxLength - 1);
        // Never read past one byte over the limit (enough to know it was passed), however large the pool's arrays are.
        int ceiling = (int)(maxBytes + 1);
        byte[] buffer = BufferPool.Rent<byte>(Math.Min(InitialCapacity, ceiling));
        int length = 0;
        try
        {
            while (true)
            {
                int capacity = Math.Min(buffer.Length, ceiling);
                if (length == capacity)
                {
                    if (length == ceiling)
                    {
                        break;
                    }

                    byte[] larger = BufferPool.Rent<byte>((int)Math.Min((long)buffer.Length * 2, ceiling));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    BufferPool.Return(buffer);
                    buffer = larger;
                    capacity = Math.Min(buffer.Length, ceiling);
                }

                int read = await stream.ReadAsync(buffer.AsMemory(length, capacity - length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }
        }
        catch
        {
            BufferPool.Return(buffer);
            throw;
        }

        if (length > maxBytes)
        {
            BufferPool.Return(buffer);
            return null;
        }

        return new PooledBytes(buffer, length);
    }

    public void Dispose()
    {
        byte[]? buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            BufferPool.Return(buffer);
        }
    }
}
