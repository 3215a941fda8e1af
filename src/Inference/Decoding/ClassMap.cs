using System.Buffers;

namespace SegServe.Inference.Decoding;

/// <summary>
/// A class index per pixel at the original image size, with the optional confidence of each pixel's class (0–255 for
/// probability 0–1) and the pixel count of every class. Buffers are pooled: dispose the map when done.
/// </summary>
public sealed class ClassMap : IDisposable
{
    private ushort[]? _classes;
    private byte[]? _confidence;

    public ClassMap(int width, int height, int classCount, bool withConfidence)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        Width = width;
        Height = height;
        ClassCount = classCount;
        PixelCounts = new long[classCount];
        _classes = ArrayPool<ushort>.Shared.Rent(width * height);
        _confidence = withConfidence ? ArrayPool<byte>.Shared.Rent(width * height) : null;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Number of classes the model predicts (not only those present).</summary>
    public int ClassCount { get; }

    /// <summary>Pixels per class id.</summary>
    public long[] PixelCounts { get; }

    public bool HasConfidence => _confidence is not null;

    /// <summary>Class ids, row-major.</summary>
    public Span<ushort> Classes => _classes.AsSpan(0, Width * Height);

    /// <summary>Confidence of each pixel's class, 0–255; empty without confidence.</summary>
    public Span<byte> Confidence => _confidence is null ? [] : _confidence.AsSpan(0, Width * Height);

    public Span<ushort> ClassRow(int y) => Classes.Slice(y * Width, Width);

    public Span<byte> ConfidenceRow(int y) => _confidence is null ? [] : Confidence.Slice(y * Width, Width);

    /// <summary>Recounts <see cref="PixelCounts"/> from the class ids.</summary>
    public void CountPixels()
    {
        Array.Clear(PixelCounts);
        long[] counts = PixelCounts;
        foreach (ushort id in Classes)
        {
            counts[id]++;
        }
    }

    public void Dispose()
    {
        if (_classes is not null)
        {
            ArrayPool<ushort>.Shared.Return(_classes);
            _classes = null;
        }

        if (_confidence is not null)
        {
            ArrayPool<byte>.Shared.Return(_confidence);
            _confidence = null;
        }
    }
}
