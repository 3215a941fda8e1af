using SegServe.Inference.Memory;

namespace SegServe.Inference.UnitTests.Memory;

public sealed class PlaneTests
{
    [Fact]
    public void Span_IsExactlyWidthTimesHeight()
    {
        // 7×3 = 21 values: the pool hands out a longer buffer (32), which must not show.
        using var plane = new Plane<ushort>(7, 3);

        Assert.Equal(7, plane.Width);
        Assert.Equal(3, plane.Height);
        Assert.Equal(21, plane.Span.Length);
    }

    [Fact]
    public void Rows_AreTheRowMajorSlicesOfTheSpan()
    {
        using var plane = new Plane<int>(4, 3);
        Span<int> all = plane.Span;
        for (int i = 0; i < all.Length; i++)
        {
            all[i] = i;
        }

        Assert.Equal([0, 1, 2, 3], plane.Row(0).ToArray());
        Assert.Equal([4, 5, 6, 7], plane.Row(1).ToArray());
        Assert.Equal([8, 9, 10, 11], plane.Row(2).ToArray());

        // A row is a view, not a copy.
        plane.Row(1)[2] = 99;
        Assert.Equal(99, plane.Span[6]);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(3)]
    public void Row_OutsideThePlane_Throws(int y)
    {
        using var plane = new Plane<byte>(2, 3);

        Assert.Throws<ArgumentOutOfRangeException>(() => plane.Row(y));
    }

    [Fact]
    public void Clear_ZeroesARecycledBuffer()
    {
        // Dirty a buffer and give it back; a cleared plane of the same size must read zero whatever it gets.
        var dirty = new Plane<byte>(16, 16);
        dirty.Span.Fill(0xAB);
        dirty.Dispose();

        using var plane = new Plane<byte>(16, 16, clear: true);

        Assert.True(plane.Span.IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public void Dispose_Twice_IsHarmless()
    {
        var plane = new Plane<float>(3, 2);

        plane.Dispose();
        plane.Dispose();
    }

    [Fact]
    public void UseAfterDispose_Throws()
    {
        var plane = new Plane<ushort>(3, 2);
        plane.Dispose();

        Assert.Throws<ObjectDisposedException>(() => plane.Span.Length);
        Assert.Throws<ObjectDisposedException>(() => plane.Row(0).Length);
        Assert.Equal(3, plane.Width);
        Assert.Equal(2, plane.Height);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    [InlineData(-4, 4)]
    [InlineData(4, -4)]
    [InlineData(65536, 65536)] // 2³² values: more than an int can count
    [InlineData(int.MaxValue, 2)]
    public void InvalidSizes_AreRejected(int width, int height) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new Plane<byte>(width, height));
}
