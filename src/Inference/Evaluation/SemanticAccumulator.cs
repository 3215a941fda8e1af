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

    private static void AddInto(long[] target, long[] source)
    {
        for (int i = 0; i < target.Length; i++)
        {
            target[i] += source[i];
        }
    }
}
