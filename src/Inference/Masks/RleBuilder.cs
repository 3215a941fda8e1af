namespace SegServe.Inference.Masks;

/// <summary>
/// Builds a COCO RLE from the set pixels' column-major positions, given in increasing order — how the instance decoders
/// write a mask straight into runs, without a full-image byte mask per object.
/// </summary>
public sealed class RleBuilder(int height, int width)
{
    private readonly List<uint> _counts = [];
    private long _runStart = -1;
    private long _runEnd = -1;
    private long _covered;

    /// <summary>Marks the pixel at column-major position <paramref name="position"/> (<c>x · height + y</c>) as set.</summary>
    public void Set(long position)
    {
        if (position == _runEnd)
        {
            _runEnd++;
            return;
        }

        Flush();
        _runStart = position;
        _runEnd = position + 1;
    }

    public CocoRle Build()
    {
        Flush();
        long total = (long)height * width;
        _counts.Add((uint)(total - _covered));
        return new CocoRle(height, width, [.. _counts]);
    }

    private void Flush()
    {
        if (_runStart < 0)
        {
            return;
        }

        _counts.Add((uint)(_runStart - _covered));
        _counts.Add((uint)(_runEnd - _runStart));
        _covered = _runEnd;
        _runStart = -1;
        _runEnd = -1;
    }
}
