
namespace SegServe.Inference.Memory;

/// <summary>
/// A width × height grid of values, row-major, in a buffer rented from <see cref="BufferPool"/> — the one
/// pooled 2-D type of the engine (in the manner of ImageSharp's <c>Buffer2D&lt;T&gt;</c>). Class maps, probability
/// masks (0–255 per pixel) and label maps are all planes, so a map made by one stage is read by the next without a
/// copy or a conversion (a model's class map is scored against ground truth as it is).
/// </summary>
/// <remarks>
/// Every request makes planes of a whole photo; renting them keeps those megabytes off the large-object heap. Code
/// reads and writes them a row at a time through <see cref="Row"/> (or all at once through <see cref="Span"/>), never
/// pixel by pixel through an indexer. Dispose the plane when done: the buffer goes back to the pool, and any later
/// access throws <see cref="ObjectDisposedException"/> rather than reading a buffer someone else now owns.
/// </remarks>
/// <typeparam name="T">The value of a pixel: <see cref="ushort"/> for class ids and labels, <see cref="byte"/> for probabilities.</typeparam>
public sealed class Plane<T> : IDisposable
    where T : unmanaged
{
    private T[]? _buffer;

    /// <summary>Rents a plane of <paramref name="width"/> × <paramref name="height"/> values.</summary>
    /// <param name="width">Values per row, at least 1.</param>
    /// <param name="height">Rows, at least 1.</param>
    /// <param name="clear">
    /// Zero the values. Rented buffers hold whatever their last user left, so leave this false only when every value
    /// will be written before it is read.
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">A side is below 1, or width × height does not fit an <see cref="int"/>.</exception>
    public Plane(int width, int height, bool clear = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        long length = (long)width * height;
        if (length > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(height), $"A {width}×{height} plane holds {length} values, more than a buffer can.");
        }

        Width = width;
        Height = height;
        _buffer = BufferPool.Rent<T>((int)length);
        if (clear)
        {
            Array.Clear(_buffer, 0, (int)length);
        }
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>All values, row-major: exactly <see cref="Width"/> × <see cref="Height"/> long (the rented buffer may be longer).</summary>
    /// <exception cref="ObjectDisposedException">The plane was disposed.</exception>
    public Span<T> Span => new(Buffer, 0, Width * Height);

    /// <summary>Row <paramref name="y"/>: <see cref="Width"/> values.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="y"/> is not a row of the plane.</exception>
    /// <exception cref="ObjectDisposedException">The plane was disposed.</exception>
    public Span<T> Row(int y)
    {
        // Checked here, not left to the span: the rented buffer may be longer than the plane, so a row past the
        // bottom would otherwise be a valid slice of someone else's leftovers.
        if ((uint)y >= (uint)Height)
        {
            throw new ArgumentOutOfRangeException(nameof(y), y, $"The plane has rows 0–{Height - 1}.");
        }

        return new Span<T>(Buffer, y * Width, Width);
    }

    private T[] Buffer
    {
        get
        {
            T[]? buffer = _buffer;
            ObjectDisposedException.ThrowIf(buffer is null, this);
            return buffer;
        }
    }

    /// <summary>Returns the buffer to the pool; later calls do nothing.</summary>
    public void Dispose()
    {
        // Exchanged, so that two disposals (even racing ones) cannot return the same buffer twice.
        T[]? buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            BufferPool.Return(buffer);
        }
    }
}
