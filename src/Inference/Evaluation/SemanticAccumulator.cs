namespace SegServe.Inference.Evaluation;

/// <summary>
/// The sums semantic scores are computed from, over one image or a whole dataset (as mmsegmentation's IoUMetric:
/// sum first, divide last): the confusion matrix of ground truth (rows) against prediction (columns), the pixels
/// whose prediction lies outside the classes (misses of their ground-truth class), and the boundary-band
/// intersections and unions per class (Boundary IoU). Ignored ground-truth pixels are left out of everything.
/// </summary>
public sealed class SemanticAccumulator
{
    public SemanticAccumulator(int classCount)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(classCount, 4096);
        ClassCount = classCount;
        Confusion = new long[classCount * classCount];
        PredictedOutside = new long[classCount];
        BoundaryIntersection = new long[classCount];
        BoundaryUnion = new long[classCount];
    }

    public int ClassCount { get; }

    /// <summary>Row-major <c>[groundTruth, prediction]</c> pixel counts.</summary>
    public long[] Confusion { get; }

    /// <summary>Per ground-truth class: pixels predicted as a value outside <c>[0, classCount − 1]</c>.</summary>
    public long[] PredictedOutside { get; }

    /// <summary>Per class: pixels in both boundary bands.</summary>
    public long[] BoundaryIntersection { get; }

    /// <summary>Per class: pixels in either boundary band.</summary>
    public long[] BoundaryUnion { get; }

    /// <summary>Adds another accumulator's sums to this one.</summary>
    public void Add(SemanticAccumulator other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.ClassCount != ClassCount)
        {
            throw new ArgumentException($"Cannot add {other.ClassCount}-class sums to {ClassCount}-class sums.", nameof(other));
        }

        AddInto(Confusion, other.Confusion);
        AddInto(PredictedOutside, other.PredictedOutside);
        AddInto(BoundaryIntersection, other.BoundaryIntersection);
        AddInto(BoundaryUnion, other.BoundaryUnion);
    }

    /// <summary>All the sums as one array (for storage): confusion, outside, boundary intersection, boundary union.</summary>
    public long[] ToArray()
    {
        int c = ClassCount;
        var all = new long[(c * c) + (3 * c)];
        Confusion.CopyTo(all, 0);
        PredictedOutside.CopyTo(all, c * c);
        BoundaryIntersection.CopyTo(all, (c * c) + c);
        BoundaryUnion.CopyTo(all, (c * c) + (2 * c));
        return all;
    }

    /// <summary>The inverse of <see cref="ToArray"/>.</summary>
    public static SemanticAccumulator FromArray(int classCount, ReadOnlySpan<long> all)
    {
        var accumulator = new SemanticAccumulator(classCount);
        int c = classCount;
        if (all.Length != (c * c) + (3 * c))
        {
            throw new ArgumentException($"{all.Length} values do not hold {classCount}-class sums.", nameof(all));
        }

        all[..(c * c)].CopyTo(accumulator.Confusion);
        all.Slice(c * c, c).CopyTo(accumulator.PredictedOutside);
        all.Slice((c * c) + c, c).CopyTo(accumulator.BoundaryIntersection);
        all.Slice((c * c) + (2 * c), c).CopyTo(accumulator.BoundaryUnion);
        return accumulator;
    }

    /// <summary>
    /// The sums of <see cref="ToArray"/> with the zeros left out, for storage: one sample of a 1,024-class dataset
    /// touches a few dozen of its 1,051,648 counts, so a dense copy per sample (8 MB) would cost the store far more
    /// than the upload did. Each non-zero count is two unsigned LEB128 varints: the gap since the previous non-zero
    /// index, then the count.
    /// </summary>
    public byte[] ToSparse()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        long previous = -1;
        long index = 0;
        foreach (long[] part in new[] { Confusion, PredictedOutside, BoundaryIntersection, BoundaryUnion })
        {
            for (int i = 0; i < part.Length; i++, index++)
            {
                if (part[i] != 0)
                {
                    WriteVarint(buffer, (ulong)(index - previous - 1));
                    WriteVarint(buffer, (ulong)part[i]);
                    previous = index;
                }
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Adds the sums of a <see cref="ToSparse"/> encoding (of the same class count) to these.</summary>
    /// <exception cref="FormatException">The encoding is damaged or does not fit this class count.</exception>
    public void AddSparse(ReadOnlySpan<byte> sparse)
    {
        int c = ClassCount;
        long length = ((long)c * c) + (3L * c);
        long index = -1;
        int position = 0;
        while (position < sparse.Length)
        {
            index += (long)ReadVarint(sparse, ref position) + 1;
            long value = (long)ReadVarint(sparse, ref position);
            if (index >= length || value < 0)
            {
                throw new FormatException($"Stored sums do not fit {c} classes.");
            }

            long[] part;
            long offset;
            if (index < (long)c * c)
            {
                (part, offset) = (Confusion, index);
            }
            else
            {
                long rest = index - ((long)c * c);
                part = (rest / c) switch { 0 => PredictedOutside, 1 => BoundaryIntersection, _ => BoundaryUnion };
                offset = rest % c;
            }

            part[offset] += value;
        }
    }

    private static void WriteVarint(System.Buffers.ArrayBufferWriter<byte> buffer, ulong value)
    {
        Span<byte> bytes = buffer.GetSpan(10);
        int count = 0;
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes[count++] = value == 0 ? b : (byte)(b | 0x80);
        }
        while (value != 0);
        buffer.Advance(count);
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> bytes, ref int position)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= bytes.Length)
            {
                throw new FormatException("Stored sums end in the middle of a number.");
            }

            byte b = bytes[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new FormatException("Stored sums hold a number longer than 64 bits.");
    }

    private static void AddInto(long[] target, long[] source)
    {
        for (int i = 0; i < target.Length; i++)
        {
            target[i] += source[i];
        }
    }
}
