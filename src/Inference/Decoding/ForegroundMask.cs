using System.Buffers;

namespace SegServe.Inference.Decoding;

/// <summary>
/// The probability that each pixel belongs to one chosen class (the foreground of portrait effects), at the original
/// image size, as 0–255 for 0–1. Used as the alpha of compositing, so edges stay soft where the model is unsure.
/// The buffer is pooled: dispose the mask when done.
/// </summary>
public sealed class ForegroundMask : IDisposable
{
    private byte[]? _alpha;

    public ForegroundMask(int width, int height, int classId)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        Width = width;
        Height = height;
        ClassId = classId;
        _alpha = ArrayPool<byte>.Shared.Rent(width * height);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The class whose probability this is.</summary>
    public int ClassId { get; }

    /// <summary>Foreground probability per pixel, row-major, 0–255.</summary>
    public Span<byte> Alpha => _alpha.AsSpan(0, Width * Height);

    public Span<byte> Row(int y) => Alpha.Slice(y * Width, Width);

    public void Dispose()
    {
        if (_alpha is not null)
        {
            ArrayPool<byte>.Shared.Return(_alpha);
            _alpha = null;
        }
    }
}
