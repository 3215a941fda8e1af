using System.Buffers;

namespace SegServe.Inference.Evaluation;

/// <summary>A map of integer labels (class indices, or the ignore index), row-major, in a pooled buffer.</summary>
public sealed class LabelMap : IDisposable
{
    private int[]? _labels;

    public LabelMap(int width, int height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        Width = width;
        Height = height;
        _labels = ArrayPool<int>.Shared.Rent(width * height);
    }

    public int Width { get; }

    public int Height { get; }

    public Span<int> Labels => _labels.AsSpan(0, Width * Height);

    public Span<int> Row(int y) => Labels.Slice(y * Width, Width);

    public void Dispose()
    {
        if (_labels is not null)
        {
            ArrayPool<int>.Shared.Return(_labels);
            _labels = null;
        }
    }
}
