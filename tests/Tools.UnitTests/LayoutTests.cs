using SegServe.Tools.SelfieImporter.Conversion;

namespace SegServe.Tools.UnitTests;

public sealed class LayoutTests
{
    [Theory]
    [InlineData(256, 3, 2, 0, 1)] // The stride-2 stem: TF puts the odd padding after.
    [InlineData(32, 5, 2, 1, 2)]
    [InlineData(64, 3, 1, 1, 1)]
    [InlineData(144, 1, 1, 0, 0)]
    public void SamePadding_MatchesTensorFlow(int inputSize, int kernel, int stride, int before, int after)
    {
        Assert.Equal((before, after), Layout.SamePadding(inputSize, kernel, stride, dilation: 1));
    }

    [Fact]
    public void Transpose_OhwiToOihw_MovesInputChannelsBeforeKernel()
    {
        // O=2, H=1, W=2, I=3: value = 100·o + 10·w + i.
        float[] ohwi = [0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112];

        (float[] oihw, int[] shape) = Layout.Transpose(ohwi, [2, 1, 2, 3], [0, 3, 1, 2]);

        Assert.Equal([2, 3, 1, 2], shape);
        Assert.Equal([0f, 10, 1, 11, 2, 12, 100, 110, 101, 111, 102, 112], oihw);
    }
}
