using SegServe.Inference.Evaluation.Instances;
using SegServe.Inference.Masks;
using SegServe.Inference.UnitTests.Masks;

namespace SegServe.Inference.UnitTests.Evaluation;

public sealed class CocoEvaluatorTests
{
    private static readonly long[] s_image = [1];
    private static readonly long[] s_category = [1];

    // COCOeval divides by tp + fp + spacing(1): a perfect score comes out as 1 − 1e-16, as pycocotools prints it.
    private static GroundTruthInstance Truth(long id, CocoRle mask, bool crowd = false) => new(id, 1, 1, mask, mask.Area, crowd);

    private static DetectedInstance Detection(CocoRle mask, double score) => new(1, 1, mask, score);

    private static CocoRle Box(int x1, int y1, int x2, int y2) => CocoRleTests.Box(200, 200, x1, y1, x2, y2);

    [Fact]
    public void Perfect_IsOne()
    {
        CocoScores scores = CocoEvaluator.Evaluate(
            [Truth(1, Box(0, 0, 10, 10)), Truth(2, Box(50, 50, 150, 150))],
            [Detection(Box(0, 0, 10, 10), 0.9), Detection(Box(50, 50, 150, 150), 0.8)],
            s_image,
            s_category);

        Assert.Equal(1.0, scores.Ap!.Value, 12);
        Assert.Equal(1.0, scores.Ar100!.Value, 12);
        Assert.Equal(1.0, scores.ApSmall!.Value, 12);   // 100 px < 32²
        Assert.Equal(1.0, scores.ApLarge!.Value, 12);   // 10 000 px > 96²
        Assert.Null(scores.ApMedium);        // no ground truth of medium size
        Assert.Equal(1.0, scores.ApByCategory[1]!.Value, 12);
    }

    [Fact]
    public void Shifted_MatchesOnlyTheLowerThresholds()
    {
        // 10×10 against 10×10 shifted by 2: 80 in common, 120 in the union → IoU 0.667: matched at .50–.65 (4 of 10).
        CocoScores scores = CocoEvaluator.Evaluate([Truth(1, Box(0, 0, 10, 10))], [Detection(Box(2, 0, 12, 10), 0.9)], s_image, s_category);

        Assert.Equal(0.4, scores.Ap!.Value, 12);
        Assert.Equal(1.0, scores.Ap50!.Value, 12);
        Assert.Equal(0.0, scores.Ap75!.Value, 12);
        Assert.Equal(0.4, scores.Ar100!.Value, 12);
    }

    [Fact]
    public void Missed_HalvesTheRecall()
    {
        // One of two found: precision 1 up to recall 0.5, i.e. at 51 of the 101 recall thresholds.
        CocoScores scores = CocoEvaluator.Evaluate(
            [Truth(1, Box(0, 0, 10, 10)), Truth(2, Box(20, 20, 30, 30))],
            [Detection(Box(0, 0, 10, 10), 0.9)],
            s_image,
            s_category);

        Assert.Equal(51.0 / 101, scores.Ap!.Value, 12);
        Assert.Equal(0.5, scores.Ar100!.Value, 12);
    }

    [Theory]
    [InlineData(0.8, 1.0)]   // the extra detection comes after full recall: no cost
    [InlineData(0.95, 0.5)]  // before it: precision 1/2 at every recall threshold
    public void Extra_CostsOnlyWhenItOutranksTheMatch(double extraScore, double expected)
    {
        CocoScores scores = CocoEvaluator.Evaluate(
            [Truth(1, Box(0, 0, 10, 10))],
            [Detection(Box(0, 0, 10, 10), 0.9), Detection(Box(100, 100, 110, 110), extraScore)],
            s_image,
            s_category);

        Assert.Equal(expected, scores.Ap!.Value, 12);
        Assert.Equal(1.0, scores.Ar100!.Value, 12);
    }

    [Fact]
    public void Crowd_DetectionsOnItAreIgnored()
    {
        // A detection inside the crowd region (IoU by detection area = 1) outranks the true match but costs nothing.
        CocoScores scores = CocoEvaluator.Evaluate(
            [Truth(1, Box(0, 0, 10, 10)), Truth(2, Box(100, 100, 200, 200), crowd: true)],
            [Detection(Box(0, 0, 10, 10), 0.9), Detection(Box(120, 120, 140, 140), 0.95)],
            s_image,
            s_category);

        Assert.Equal(1.0, scores.Ap!.Value, 12);
        Assert.Equal(1.0, scores.Ar100!.Value, 12);
    }

    [Fact]
    public void CategoryWithoutTruth_IsLeftOutOfTheMeans()
    {
        CocoScores scores = CocoEvaluator.Evaluate(
            [Truth(1, Box(0, 0, 10, 10))],
            [Detection(Box(0, 0, 10, 10), 0.9), new DetectedInstance(1, 2, Box(50, 50, 60, 60), 0.9)],
            s_image,
            [1, 2]);

        Assert.Equal(1.0, scores.Ap!.Value, 12);
        Assert.Null(scores.ApByCategory[2]);
    }

    [Fact]
    public void MaxDets_LimitsDetectionsPerImage()
    {
        // Ten objects found, the best-scored first: AR@1 sees one of ten.
        var truth = new List<GroundTruthInstance>();
        var detections = new List<DetectedInstance>();
        for (int i = 0; i < 10; i++)
        {
            truth.Add(Truth(i + 1, Box(i * 15, 0, (i * 15) + 10, 10)));
            detections.Add(Detection(Box(i * 15, 0, (i * 15) + 10, 10), 1.0 - (i * 0.01)));
        }

        CocoScores scores = CocoEvaluator.Evaluate(truth, detections, s_image, s_category);

        Assert.Equal(0.1, scores.Ar1!.Value, 12);
        Assert.Equal(1.0, scores.Ar10!.Value, 12);
        Assert.Equal(1.0, scores.Ap!.Value, 12);
    }
}
