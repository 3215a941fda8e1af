using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SegServe.Inference.Evaluation;

namespace SegServe.Inference.UnitTests.Evaluation;

public sealed class SemanticAccumulatorTests
{
    [Fact]
    public void Sparse_ForAFewCounts_IsAFewBytes_AndReadsBack()
    {
        var sums = new SemanticAccumulator(1024);
        sums.Confusion[0] = 3;                    // gap 0, count 3
        sums.Confusion[(5 * 1024) + 7] = 200;     // a two-byte count
        sums.BoundaryUnion[1023] = 1;             // the very last index

        byte[] sparse = sums.ToSparse();
        Assert.True(sparse.Length < 16, $"{sparse.Length} bytes");
        Assert.Equal([0, 3], sparse[..2]);

        var read = new SemanticAccumulator(1024);
        read.AddSparse(sparse);
        Assert.Equal(sums.ToArray(), read.ToArray());
    }

    [Fact]
    public void DamagedOrMismatchedEncodings_AreRefused()
    {
        var sums = new SemanticAccumulator(4);
        sums.BoundaryUnion[3] = 9;
        byte[] sparse = sums.ToSparse();

        Assert.Throws<FormatException>(() => new SemanticAccumulator(3).AddSparse(sparse));
        Assert.Throws<FormatException>(() => new SemanticAccumulator(4).AddSparse(sparse.AsSpan(0, sparse.Length - 1)));
        Assert.Throws<FormatException>(() => new SemanticAccumulator(4).AddSparse([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]));
    }

    [Property(MaxTest = 200)]
    public Property Sparse_AddsUpAsDense() =>
        Prop.ForAll(
            (from classes in Gen.Choose(1, 12)
             from samples in Gen.ArrayOf(Gen.ArrayOf(Gen.Frequency((4, Gen.Constant(0L)), (1, Gen.Choose(1, 1_000_000).Select(static v => (long)v))), (classes * classes) + (3 * classes)), 3)
             select (classes, samples)).ToArbitrary(),
            c =>
            {
                var dense = new SemanticAccumulator(c.classes);
                var sparse = new SemanticAccumulator(c.classes);
                foreach (long[] sample in c.samples)
                {
                    SemanticAccumulator one = SemanticAccumulator.FromArray(c.classes, sample);
                    dense.Add(one);
                    sparse.AddSparse(one.ToSparse());
                }

                return dense.ToArray().SequenceEqual(sparse.ToArray());
            });
}
