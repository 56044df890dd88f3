#!/usr/bin/env python3
# The seed's own camera client (Flask_Server_Setup.md, "2-1. 웹캠 클라이언트 코드
# (client/camera_client.py)"), copied unchanged below, then driven without a webcam: its
# send_frame posts a real 640x480 frame to `pcb serve` exactly as the seed does (OpenCV JPEG
# at quality 85, requests with a 5 s timeout). Needs opencv-python-headless and requests
# (scripts/test.sh makes a throwaway venv for them). Prints "seed send_frame: all checks passed".

# ---- the seed's client/camera_client.py, unchanged ----
import cv2
import requests
import base64
import time
import logging
from datetime import datetime

# 로깅 설정
logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)

class CameraClient:
    def __init__(self, camera_id, camera_index, server_url, fps=10):
        """
        웹캠 클라이언트 초기화

        Args:
            camera_id: 'left' or 'right'
            camera_index: 웹캠 인덱스 (0, 1, 2, ...)
            server_url: Flask 서버 URL (예: http://192.168.0.10:5000)
            fps: 초당 전송 프레임 수
        """
        self.camera_id = camera_id
        self.camera_index = camera_index
        self.server_url = server_url
        self.fps = fps
        self.frame_interval = 1.0 / fps

        # 웹캠 초기화
        self.cap = cv2.VideoCapture(camera_index)
        if not self.cap.isOpened():
            raise RuntimeError(f"Failed to open camera {camera_index}")

        # 해상도 설정 (640x480 권장)
        self.cap.set(cv2.CAP_PROP_FRAME_WIDTH, 640)
        self.cap.set(cv2.CAP_PROP_FRAME_HEIGHT, 480)

        logger.info(f"Camera {camera_id} initialized (index: {camera_index})")

    def encode_frame(self, frame):
        """프레임을 Base64로 인코딩"""
        _, buffer = cv2.imencode('.jpg', frame, [cv2.IMWRITE_JPEG_QUALITY, 85])
        frame_base64 = base64.b64encode(buffer).decode('utf-8')
        return frame_base64

    def send_frame(self, frame):
        """프레임을 서버로 전송"""
        try:
            # 프레임 인코딩
            frame_base64 = self.encode_frame(frame)

            # 요청 데이터 생성
            data = {
                'camera_id': self.camera_id,
                'frame': frame_base64,
                'timestamp': datetime.now().isoformat()
            }

            # POST 요청 전송
            response = requests.post(
                f"{self.server_url}/predict",
                json=data,
                timeout=5  # 5초 타임아웃
            )

            if response.status_code == 200:
                result = response.json()
                logger.info(f"[{self.camera_id}] Result: {result['defect_type']} "
                           f"(confidence: {result['confidence']:.2f}, "
                           f"inference: {result['inference_time_ms']:.1f}ms)")
                return result
            else:
                logger.error(f"Server error: {response.status_code}")
                return None

        except requests.exceptions.Timeout:
            logger.error("Request timeout")
            return None
        except Exception as e:
            logger.error(f"Error sending frame: {str(e)}")
            return None

    def run(self):
        """메인 루프: 웹캠 프레임 캡처 및 전송"""
        logger.info(f"Starting camera client [{self.camera_id}]...")

        frame_count = 0
        last_send_time = time.time()

        try:
            while True:
                # 프레임 읽기
                ret, frame = self.cap.read()
                if not ret:
                    logger.warning("Failed to read frame")
                    continue

                frame_count += 1
                current_time = time.time()

                # FPS 제어: 지정된 간격마다 전송
                if current_time - last_send_time >= self.frame_interval:
                    # 서버로 전송
                    result = self.send_frame(frame)
                    last_send_time = current_time

                    # 결과 시각화 (선택)
                    if result:
                        self.visualize_result(frame, result)

                # 'q' 키를 누르면 종료
                if cv2.waitKey(1) & 0xFF == ord('q'):
                    break

        finally:
            self.cap.release()
            cv2.destroyAllWindows()
            logger.info("Camera client stopped")

    def visualize_result(self, frame, result):
        """추론 결과 시각화 (선택)"""
        # 불량 유형 표시
        defect_type = result['defect_type']
        confidence = result['confidence']

        # 색상 설정
        color = (0, 255, 0) if defect_type == '정상' else (0, 0, 255)

        # 텍스트 표시
        text = f"{defect_type} ({confidence:.2f})"
        cv2.putText(frame, text, (10, 30), cv2.FONT_HERSHEY_SIMPLEX,
                    1, color, 2)

        # 바운딩 박스 표시
        for box in result['boxes']:
            x1, y1, x2, y2 = int(box['x1']), int(box['y1']), int(box['x2']), int(box['y2'])
            cv2.rectangle(frame, (x1, y1), (x2, y2), color, 2)
            cv2.putText(frame, box['class'], (x1, y1-10),
                        cv2.FONT_HERSHEY_SIMPLEX, 0.5, color, 2)
# ---- end of the seed's code ----


def drive(url, frame_path):
    import sys
    frame = cv2.imread(frame_path)
    assert frame is not None and frame.shape == (480, 640, 3), f"cannot read a 640x480 frame from {frame_path}"
    for camera_id in ("left", "right"):
        # The seed's constructor opens a webcam; everything send_frame uses is set here instead.
        client = CameraClient.__new__(CameraClient)
        client.camera_id, client.camera_index, client.server_url, client.fps = camera_id, 0, url, 10
        client.frame_interval = 0.1
        result = client.send_frame(frame)
        if result is None:
            print(f"FAIL: send_frame returned None for {camera_id}")
            sys.exit(1)
        for key in ("status", "camera_id", "timestamp", "defect_type", "confidence", "boxes", "inference_time_ms", "gpio_signal"):
            assert key in result, f"{key} missing in {result}"
        assert result["camera_id"] == camera_id and result["status"] == "ok"
        assert result["defect_type"] in ("정상", "부품불량", "납땜불량", "폐기"), result["defect_type"]
        assert set(result["gpio_signal"]) >= {"pin", "action", "duration_ms"}
        for box in result["boxes"]:  # what the seed's visualize_result reads from each box
            int(box["x1"]), int(box["y1"]), int(box["x2"]), int(box["y2"]), str(box["class"])
    print("seed send_frame: all checks passed")


if __name__ == '__main__':
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--frame", required=True)
    arguments = parser.parse_args()
    drive(arguments.url, arguments.frame)
