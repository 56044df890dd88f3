// See include/CLinuxIO.h. Kept to system calls and struct filling; all logic lives in Swift.
#include "CLinuxIO.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <linux/videodev2.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

static int xioctl(int fd, unsigned long request, void *arg) {
    int r;
    do { r = ioctl(fd, request, arg); } while (r == -1 && errno == EINTR);
    return r == -1 ? -errno : r;
}

// MARK: GPIO

uint32_t clinuxio_gpio_lines_max(void) { return GPIO_V2_LINES_MAX; }

int clinuxio_gpio_request_outputs(int chip_fd, const uint32_t *offsets, uint32_t count, const char *consumer) {
    if (count == 0 || count > GPIO_V2_LINES_MAX) return -EINVAL;
    struct gpio_v2_line_request request;
    memset(&request, 0, sizeof request);
    for (uint32_t i = 0; i < count; i++) request.offsets[i] = offsets[i];
    request.num_lines = count;
    strncpy(request.consumer, consumer, GPIO_MAX_NAME_SIZE - 1);
    request.config.flags = GPIO_V2_LINE_FLAG_OUTPUT;
    // Every line starts LOW: an attribute with value bits 0 over all requested lines.
    request.config.num_attrs = 1;
    request.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
    request.config.attrs[0].attr.values = 0;
    request.config.attrs[0].mask = count == 64 ? ~(uint64_t)0 : (((uint64_t)1 << count) - 1);
    int r = xioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, &request);
    return r < 0 ? r : request.fd;
}

int clinuxio_gpio_set_values(int request_fd, uint64_t bits, uint64_t mask) {
    struct gpio_v2_line_values values = { .bits = bits, .mask = mask };
    int r = xioctl(request_fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &values);
    return r < 0 ? r : 0;
}

// MARK: V4L2

static int try_format(int fd, uint32_t width, uint32_t height, uint32_t pixelformat, struct v4l2_format *out) {
    struct v4l2_format format;
    memset(&format, 0, sizeof format);
    format.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    format.fmt.pix.width = width;
    format.fmt.pix.height = height;
    format.fmt.pix.pixelformat = pixelformat;
    format.fmt.pix.field = V4L2_FIELD_ANY;
    int r = xioctl(fd, VIDIOC_S_FMT, &format);
    if (r < 0) return r;
    if (format.fmt.pix.pixelformat != pixelformat) return -EINVAL;  // the driver chose another
    *out = format;
    return 0;
}

void clinuxio_camera_close(struct clinuxio_camera *camera) {
    if (camera->fd < 0) return;
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    xioctl(camera->fd, VIDIOC_STREAMOFF, &type);
    for (uint32_t i = 0; i < camera->buffer_count; i++)
        if (camera->buffers[i] && camera->buffers[i] != MAP_FAILED) munmap(camera->buffers[i], camera->lengths[i]);
    close(camera->fd);
    camera->fd = -1;
    camera->buffer_count = 0;
}

int clinuxio_camera_open(const char *path, uint32_t width, uint32_t height, int allow_mjpeg,
                         struct clinuxio_camera *camera) {
    memset(camera, 0, sizeof *camera);
    camera->fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (camera->fd < 0) return -errno;
    int r;
    struct v4l2_capability capability;
    if ((r = xioctl(camera->fd, VIDIOC_QUERYCAP, &capability)) < 0) goto fail;
    uint32_t caps = capability.capabilities & V4L2_CAP_DEVICE_CAPS ? capability.device_caps : capability.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE) || !(caps & V4L2_CAP_STREAMING)) { r = -ENODEV; goto fail; }

    struct v4l2_format format;
    if (allow_mjpeg && try_format(camera->fd, width, height, V4L2_PIX_FMT_MJPEG, &format) == 0) {
        camera->format = CLINUXIO_MJPEG;
    } else if ((r = try_format(camera->fd, width, height, V4L2_PIX_FMT_YUYV, &format)) == 0) {
        camera->format = CLINUXIO_YUYV;
    } else {
        goto fail;
    }
    camera->width = format.fmt.pix.width;
    camera->height = format.fmt.pix.height;
    camera->bytes_per_line = format.fmt.pix.bytesperline ? format.fmt.pix.bytesperline : format.fmt.pix.width * 2;

    struct v4l2_requestbuffers request;
    memset(&request, 0, sizeof request);
    request.count = CLINUXIO_V4L2_MAX_BUFFERS;
    request.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    request.memory = V4L2_MEMORY_MMAP;
    if ((r = xioctl(camera->fd, VIDIOC_REQBUFS, &request)) < 0) goto fail;
    if (request.count < 2) { r = -ENOMEM; goto fail; }
    if (request.count > CLINUXIO_V4L2_MAX_BUFFERS) request.count = CLINUXIO_V4L2_MAX_BUFFERS;
    for (uint32_t i = 0; i < request.count; i++) {
        struct v4l2_buffer buffer;
        memset(&buffer, 0, sizeof buffer);
        buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        buffer.memory = V4L2_MEMORY_MMAP;
        buffer.index = i;
        if ((r = xioctl(camera->fd, VIDIOC_QUERYBUF, &buffer)) < 0) goto fail;
        camera->lengths[i] = buffer.length;
        camera->buffers[i] = mmap(NULL, buffer.length, PROT_READ | PROT_WRITE, MAP_SHARED, camera->fd, buffer.m.offset);
        camera->buffer_count = i + 1;
        if (camera->buffers[i] == MAP_FAILED) { r = -errno; goto fail; }
        if ((r = xioctl(camera->fd, VIDIOC_QBUF, &buffer)) < 0) goto fail;
    }
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if ((r = xioctl(camera->fd, VIDIOC_STREAMON, &type)) < 0) goto fail;
    return 0;
fail:
    clinuxio_camera_close(camera);
    return r;
}

int clinuxio_camera_dequeue(struct clinuxio_camera *camera, int timeout_ms, uint32_t *index, uint32_t *bytes_used,
                            int *corrupt) {
    struct pollfd descriptor = { .fd = camera->fd, .events = POLLIN };
    int ready;
    do { ready = poll(&descriptor, 1, timeout_ms); } while (ready == -1 && errno == EINTR);
    if (ready < 0) return -errno;
    if (ready == 0) return -ETIMEDOUT;
    struct v4l2_buffer buffer;
    memset(&buffer, 0, sizeof buffer);
    buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buffer.memory = V4L2_MEMORY_MMAP;
    int r = xioctl(camera->fd, VIDIOC_DQBUF, &buffer);
    if (r < 0) return r;
    *index = buffer.index;
    *bytes_used = buffer.bytesused;
    *corrupt = (buffer.flags & V4L2_BUF_FLAG_ERROR) ? 1 : 0;
    return 0;
}

int clinuxio_camera_requeue(struct clinuxio_camera *camera, uint32_t index) {
    struct v4l2_buffer buffer;
    memset(&buffer, 0, sizeof buffer);
    buffer.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    buffer.memory = V4L2_MEMORY_MMAP;
    buffer.index = index;
    int r = xioctl(camera->fd, VIDIOC_QBUF, &buffer);
    return r < 0 ? r : 0;
}
