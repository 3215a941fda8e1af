using SegServe.Inference.Evaluation;
using SegServe.Inference.Memory;

namespace SegServe.Inference.UnitTests.Evaluation;

public sealed class SemanticEvaluatorTests
{
    private static Plane<ushort> Map(int width, int height, params int[] labels)
    {
        var map = new Plane<ushort>(width, height);
        Span<ushort> destination = map.Span;
        for (int i = 0; i < labels.Length; i++)
        {
            destination[i] = checked((ushort)labels[i]);
        }

        return map;
    }

    private static SemanticScores Score(Plane<ushort> prediction, Plane<ushort> truth, int classes, int ignore = 255)
    {
        var sums = new SemanticAccumulator(classes);
        SemanticEvaluator.Accumulate(prediction, truth, ignore, sums);
        return SemanticScores.From(sums);
    }

    [Fact]
    public void Textbook_CentreSquareWithOneMissedPixel()
    {
        // 4×4, the centre 2×2 is foreground; one foreground pixel predicted as background.
        using Plane<ushort> truth = Map(4, 4,
            0, 0, 0, 0,
            0, 1, 1, 0,
            0, 1, 1, 0,
            0, 0, 0, 0);
        using Plane<ushort> prediction = Map(4, 4,
            0, 0, 0, 0,
            0, 1, 0, 0,
            0, 1, 1, 0,
            0, 0, 0, 0);

        SemanticScores scores = Score(prediction, truth, 2);

        Assert.Equal(15.0 / 16, scores.PixelAccuracy);
        Assert.Equal(3.0 / 4, scores.Classes[1].Iou);
        // Background: 12 in the truth, 13 predicted, 12 in common → 12/13.
        Assert.Equal(12.0 / 13, scores.Classes[0].Iou);
        Assert.Equal(((12.0 / 13) + 0.75) / 2, scores.MeanIou!.Value, 12);
        Assert.Equal(2.0 * 3 / (3 + 4), scores.Classes[1].Dice);
        Assert.Equal(1.0, scores.Classes[1].Precision);
        Assert.Equal(0.75, scores.Classes[1].Recall);
        Assert.Equal((1.0 + 0.75) / 2, scores.MeanAccuracy!.Value, 12);
        // Frequency-weighted: 12/16 · 12/13 + 4/16 · 3/4.
        Assert.Equal((0.75 * 12 / 13) + (0.25 * 0.75), scores.FrequencyWeightedIou!.Value, 12);
        Assert.Equal(16, scores.Pixels);
    }

    [Fact]
    public void ClassAbsentFromBoth_IsNullAndLeftOutOfTheMeans()
    {
        using Plane<ushort> truth = Map(2, 1, 0, 1);
        using Plane<ushort> prediction = Map(2, 1, 0, 1);

        SemanticScores scores = Score(prediction, truth, 3);

        Assert.Null(scores.Classes[2].Iou);
        Assert.Null(scores.Classes[2].Dice);
        Assert.Null(scores.Classes[2].Recall);
        Assert.Equal(1.0, scores.MeanIou);
        Assert.Equal(1.0, scores.MeanAccuracy);
    }

    [Fact]
    public void PredictedClassAbsentFromTruth_HasIouZero_AndNoRecallOrF1()
    {
        using Plane<ushort> truth = Map(2, 1, 0, 0);
        using Plane<ushort> prediction = Map(2, 1, 0, 1);

        SemanticScores scores = Score(prediction, truth, 2);

        Assert.Equal(0.0, scores.Classes[1].Iou);
        Assert.Equal(0.0, scores.Classes[1].Precision);
        Assert.Null(scores.Classes[1].Recall);
        Assert.Null(scores.Classes[1].F1);
        Assert.Equal(0.25, scores.MeanIou); // (1/2 + 0) / 2
    }

    [Fact]
    public void MissedClass_HasNoPrecision_AndIsLeftOutOfMeanF1()
    {
        using Plane<ushort> truth = Map(2, 1, 0, 1);
        using Plane<ushort> prediction = Map(2, 1, 0, 0);

        SemanticScores scores = Score(prediction, truth, 2);

        Assert.Equal(0.0, scores.Classes[1].Iou);
        Assert.Equal(0.0, scores.Classes[1].Recall);
        Assert.Null(scores.Classes[1].Precision);
        Assert.Null(scores.Classes[1].F1);
        // Only class 0 has an F1: precision 1/2, recall 1 → 2/3.
        Assert.Equal(2.0 / 3, scores.MeanF1!.Value, 12);
    }

    [Fact]
    public void IgnoredPixels_LeaveEveryCount_AndPredictionsOutsideTheClassesAreMisses()
    {
        // Pixel 1 is ignored (its prediction 1 is not counted); pixel 2 predicts 7, outside 0–1: a miss of class 0.
        using Plane<ushort> truth = Map(3, 1, 0, 255, 0);
        using Plane<ushort> prediction = Map(3, 1, 0, 1, 7);

        SemanticScores scores = Score(prediction, truth, 2);

        Assert.Equal(2, scores.Pixels);
        Assert.Equal(0.5, scores.PixelAccuracy);
        Assert.Equal(0, scores.Classes[1].PredictedPixels);
        Assert.Equal(2, scores.Classes[0].GroundTruthPixels);
        Assert.Equal(0.5, scores.Classes[0].Iou);
        Assert.Null(scores.Classes[1].Iou);
    }

    [Fact]
    public void TruthOutsideTheClasses_IsRejectedNamingTheValue()
    {
        using Plane<ushort> truth = Map(3, 1, 0, 9, 255);
        using Plane<ushort> prediction = Map(3, 1, 0, 0, 0);

        EvaluationInputException ex = Assert.Throws<EvaluationInputException>(() => Score(prediction, truth, 2));

        Assert.Contains("label 9 at pixel (1, 0)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SizeMismatch_IsRejectedNamingTheSizes()
    {
        using Plane<ushort> truth = Map(3, 1, 0, 0, 0);
        using Plane<ushort> prediction = Map(1, 3, 0, 0, 0);

        EvaluationInputException ex = Assert.Throws<EvaluationInputException>(() => Score(prediction, truth, 2));

        Assert.Contains("1×3", ex.Message, StringComparison.Ordinal);
        Assert.Contains("3×1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SumsOverImages_BeforeDividing()
    {
        // Image A: class 1 perfect (1 px). Image B: class 1 missed (1 px of truth, predicted 0).
        // Per-image IoU of class 1 would average to 0.5; the dataset-level IoU is 1/2 too, but aAcc sums: 3/4.
        var sums = new SemanticAccumulator(2);
        using (Plane<ushort> truth = Map(2, 1, 0, 1))
        using (Plane<ushort> prediction = Map(2, 1, 0, 1))
        {
            SemanticEvaluator.Accumulate(prediction, truth, 255, sums);
        }

        using (Plane<ushort> truth = Map(2, 1, 0, 1))
        using (Plane<ushort> prediction = Map(2, 1, 0, 0))
        {
            SemanticEvaluator.Accumulate(prediction, truth, 255, sums);
        }

        SemanticScores scores = SemanticScores.From(sums);
        Assert.Equal(0.75, scores.PixelAccuracy);
        Assert.Equal(0.5, scores.Classes[1].Iou);        // I = 1, U = 2
        Assert.Equal(2.0 / 3, scores.Classes[0].Iou);    // I = 2, U = 3

        SemanticAccumulator copy = SemanticAccumulator.FromArray(2, sums.ToArray());
        Assert.Equal(scores, SemanticScores.From(copy), new ScoresComparer());
    }

    [Fact]
    public void ChessboardDistance_CountsErosionsWithTheBorderAsBackground()
    {
        ushort[] ones = new ushort[25];
        Array.Fill(ones, (ushort)1);
        int[] distance = new int[25];

        SemanticEvaluator.ChessboardDistance(ones, 1, 5, 5, distance);

        Assert.Equal(
            [1, 1, 1, 1, 1,
             1, 2, 2, 2, 1,
             1, 2, 3, 2, 1,
             1, 2, 2, 2, 1,
             1, 1, 1, 1, 1],
            distance);
    }

    [Fact]
    public void BoundaryIou_HandComputedHole()
    {
        // 10×10 all class 0 in the truth; the prediction has one class-1 pixel at (5, 5).
        // d = max(1, round(0.02 · √200)) = 1. Truth band of class 0: the 36-pixel outer ring. Predicted band of class 0:
        // the ring plus the 8 pixels around the hole = 44. Class 1: truth band empty, predicted band 1 pixel.
        using Plane<ushort> truth = Map(10, 10, new int[100]);
        int[] predicted = new int[100];
        predicted[55] = 1;
        using Plane<ushort> prediction = Map(10, 10, predicted);

        SemanticScores scores = Score(prediction, truth, 2);

        Assert.Equal(1, SemanticEvaluator.BoundaryWidth(10, 10));
        Assert.Equal(36.0 / 44, scores.Classes[0].BoundaryIou);
        Assert.Equal(0.0, scores.Classes[1].BoundaryIou);
        Assert.Equal(36.0 / 44 / 2, scores.MeanBoundaryIou!.Value, 12);
    }

    [Theory]
    [InlineData(480, 360, 12)] // diagonal 600 → 12
    [InlineData(10, 10, 1)]
    [InlineData(1000, 1000, 28)] // 1414.2 · 0.02 = 28.28
    public void BoundaryWidth_IsTwoPercentOfTheDiagonal(int width, int height, int expected) =>
        Assert.Equal(expected, SemanticEvaluator.BoundaryWidth(width, height));

    private sealed class ScoresComparer : IEqualityComparer<SemanticScores>
    {
        public bool Equals(SemanticScores? x, SemanticScores? y) =>
            x is not null && y is not null && x.MeanIou == y.MeanIou && x.PixelAccuracy == y.PixelAccuracy && x.Classes.SequenceEqual(y.Classes);

        public int GetHashCode(SemanticScores obj) => 0;
    }
}
